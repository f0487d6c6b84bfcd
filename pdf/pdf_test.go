package pdf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sample = `# Record of mentoring
## Research Leadership Mentoring, Aarhus Universitet

- Mentor: Åse Østergaard
- Mentee: Bjørn Kærgård-Nielsen
- Dates: 12 January 2027 to 14 December 2027
- Sessions held: 11 of 12 (11 hours)

Åse Østergaard mentored Bjørn Kærgård-Nielsen for a year, guiding and
mentoring others as part of the programme.

Also: Łukasz Żółć, Zoë Brontë, Ζωή Παπαδοπούλου, Дми́трий Шостакович, Şükrü Ağaoğlu.

> Made by mentord for the programme team on 15 December 2027.
`

// pdftotext reads a PDF back with poppler's pdftotext and pdfinfo, readers
// nobody here wrote (scripts/install-test-deps.sh installs them). A missing
// reader fails the test with the command that installs it.
func pdftotext(t *testing.T, pdf []byte) (text, info string) {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: install it with: apt-get install -y poppler-utils")
	}
	p := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	inf, err := exec.Command("pdfinfo", p).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, inf)
	}
	return string(out), string(inf)
}

func TestWriteReadsBack(t *testing.T) {
	d := Parse(sample)
	d.Author, d.Lang, d.Created = "Aarhus Universitet", "en", time.Date(2027, 12, 15, 9, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	if n := buf.Len(); n > 80_000 {
		t.Errorf("the PDF is %d bytes, want under 80 kB (the fonts are embedded as subsets)", n)
	}
	text, info := pdftotext(t, buf.Bytes())
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"Record of mentoring", "Åse Østergaard", "Bjørn Kærgård-Nielsen", "Sessions held", "11 of 12 (11 hours)",
		"guiding and mentoring others", "Łukasz Żółć", "Zoë Brontë", "Ζωή Παπαδοπούλου", "Şükrü Ağaoğlu", "Made by mentord"} {
		if !strings.Contains(flat, want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"Pages:           1", "Title:           Record of mentoring", "Author:          Aarhus Universitet", "Page size:       595.28 x 841.89 pts (A4)"} {
		if !strings.Contains(info, want) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
}

func TestWriteRefusesASecondPage(t *testing.T) {
	d := Parse(sample)
	d.Paragraphs = append(d.Paragraphs, strings.Repeat("A long paragraph that goes on. ", 400))
	if err := Write(&bytes.Buffer{}, d); !errors.Is(err, ErrTooLong) {
		t.Fatalf("Write() = %v, want ErrTooLong", err)
	}
}

func TestParse(t *testing.T) {
	d := Parse(sample)
	if d.Title != "Record of mentoring" || d.Subtitle != "Research Leadership Mentoring, Aarhus Universitet" {
		t.Errorf("title %q, subtitle %q", d.Title, d.Subtitle)
	}
	if len(d.Rows) != 4 || d.Rows[3] != (Row{"Sessions held", "11 of 12 (11 hours)"}) {
		t.Errorf("rows = %q", d.Rows)
	}
	if len(d.Paragraphs) != 2 || !strings.HasPrefix(d.Paragraphs[0], "Åse Østergaard mentored Bjørn Kærgård-Nielsen for a year, guiding") {
		t.Errorf("paragraphs = %q", d.Paragraphs)
	}
	if len(d.Footer) != 1 {
		t.Errorf("footer = %q", d.Footer)
	}
}
