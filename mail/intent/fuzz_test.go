package intent

import (
	"testing"
	"time"
)

// Outside input: whatever anyone writes. Reading it never panics, and a
// date found is a real instant in the zone asked for.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"Please pause my mentoring until March", "Kan vi flytte til tirsdag den 14. januar kl. 15?",
		"can we do Thursday the 14th at 3pm instead?", "2/3 at 10:00", "i morgen kl. 9", "until the end of February",
		"", "\x00\xff", "the 31st", "den 30. februar", "at 25:99", "kl. 7.5"} {
		f.Add(s)
	}
	cph, _ := time.LoadLocation("Europe/Copenhagen")
	now := time.Date(2027, 1, 8, 10, 0, 0, 0, cph)
	session := time.Date(2027, 1, 12, 14, 0, 0, 0, cph)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2000 {
			s = s[:2000]
		}
		_ = Read(s)
		for _, danish := range []bool{false, true} {
			if w, ok := FindWhen(s, now, cph, session, danish); ok && w.Unclear == "" && (w.Start.IsZero() || w.Start.Location() != cph) {
				t.Errorf("FindWhen(%q) = %+v", s, w)
			}
			if u, ok := FindUntil(s, now, cph, danish); ok && !u.After(now) {
				t.Errorf("FindUntil(%q) = %v, not after now", s, u)
			}
		}
	})
}
