package reply

import (
	"testing"
)

// BenchmarkParse understands the typical replies of the test cases (bounces,
// auto-replies and HTML-only messages included), one per iteration.
func BenchmarkParse(b *testing.B) {
	cases := loadCases(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		if _, err := Parse(c.raw, Options{Prompt: c.prompt}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}
