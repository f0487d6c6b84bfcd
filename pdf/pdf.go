// Package pdf lays out a short document on one A4 page, as PDF, in an
// embedded font that covers every European name (DejaVu Sans, subset: Latin,
// Greek and Cyrillic; see fonts/README and fonts/LICENSE). It knows nothing of
// mentord: the wording comes from templates, as text.
//
// The flow:
//  1. Parse reads a document's text form, as a template writes it: "# " a
//     title, "## " a subtitle, "- Label: value" a row of the facts table,
//     "> " small print at the foot, any other line prose (lines in a row
//     join into one paragraph; a blank line ends it).
//  2. Write lays it out through go-pdf/fpdf: the title and subtitle, the
//     rows as a two-column table, the paragraphs wrapped to the page, the
//     small print at the bottom. The fonts are embedded as subsets holding
//     only the glyphs used, so a page is a few tens of kilobytes.
//  3. A document that does not fit on one page is an error (ErrTooLong),
//     never a second page.
package pdf

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

//go:embed fonts/DejaVuSans.ttf
var regular []byte

//go:embed fonts/DejaVuSans-Bold.ttf
var bold []byte

// ErrTooLong is returned for a document that does not fit on one page.
var ErrTooLong = errors.New("the document does not fit on one page")

// Row is one fact: a label and its value.
type Row struct{ Label, Value string }

// Document is what one page holds.
type Document struct {
	Title, Subtitle string
	Rows            []Row
	Paragraphs      []string
	Footer          []string // small print at the foot of the page
	// Metadata: the document's author (an organisation), its language (en,
	// da), and when it was made (zero: now).
	Author, Lang string
	Created      time.Time
}

// Parse reads a document's text form (see the package comment).
func Parse(text string) Document {
	var d Document
	var para []string
	flush := func() {
		if len(para) > 0 {
			d.Paragraphs = append(d.Paragraphs, strings.Join(para, " "))
			para = nil
		}
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "## "):
			flush()
			d.Subtitle = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "# "):
			flush()
			d.Title = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "- "):
			flush()
			label, value, _ := strings.Cut(line[2:], ": ")
			d.Rows = append(d.Rows, Row{Label: strings.TrimSpace(label), Value: strings.TrimSpace(value)})
		case strings.HasPrefix(line, "> ") || line == ">":
			flush()
			d.Footer = append(d.Footer, strings.TrimSpace(strings.TrimPrefix(line, ">")))
		default:
			para = append(para, line)
		}
	}
	flush()
	return d
}

// Page geometry, in millimetres.
const (
	margin     = 22.0
	labelWidth = 52.0
	family     = "DejaVuSans"
)

// Write lays d out on one A4 page and writes the PDF to w.
func Write(w io.Writer, d Document) error {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(false, margin)
	f.AddUTF8FontFromBytes(family, "", regular)
	f.AddUTF8FontFromBytes(family, "B", bold)
	f.SetTitle(d.Title, true)
	f.SetAuthor(d.Author, true)
	f.SetCreator("mentord", true)
	f.SetProducer("mentord", true)
	if d.Lang != "" {
		f.SetLang(d.Lang)
	}
	if !d.Created.IsZero() {
		f.SetCreationDate(d.Created)
		f.SetModificationDate(d.Created)
	}
	f.AddPage()
	pageW, pageH := f.GetPageSize()
	width := pageW - 2*margin
	f.SetFont(family, "B", 20)
	f.MultiCell(width, 9, d.Title, "", "L", false)
	if d.Subtitle != "" {
		f.SetFont(family, "", 12)
		f.SetTextColor(80, 80, 80)
		f.MultiCell(width, 6, d.Subtitle, "", "L", false)
		f.SetTextColor(0, 0, 0)
	}
	f.Ln(4)
	f.SetDrawColor(160, 160, 160)
	f.Line(margin, f.GetY(), pageW-margin, f.GetY())
	f.Ln(6)
	for _, r := range d.Rows {
		y := f.GetY()
		f.SetFont(family, "B", 10.5)
		f.MultiCell(labelWidth, 6, r.Label, "", "L", false)
		below := f.GetY()
		f.SetXY(margin+labelWidth, y)
		f.SetFont(family, "", 10.5)
		f.MultiCell(width-labelWidth, 6, r.Value, "", "L", false)
		f.SetY(max(below, f.GetY()) + 1.5)
	}
	f.Ln(4)
	f.SetFont(family, "", 11)
	for _, p := range d.Paragraphs {
		f.MultiCell(width, 6, p, "", "L", false)
		f.Ln(3)
	}
	bottom := f.GetY()
	if len(d.Footer) > 0 {
		f.SetFont(family, "", 8.5)
		f.SetTextColor(90, 90, 90)
		lines := 0
		for _, l := range d.Footer {
			lines += max(1, len(f.SplitText(l, width)))
		}
		top := pageH - margin - float64(lines)*4.5
		if top < bottom {
			return ErrTooLong
		}
		f.SetY(top)
		for _, l := range d.Footer {
			f.MultiCell(width, 4.5, l, "", "L", false)
		}
		bottom = f.GetY()
	}
	if bottom > pageH-margin+0.01 || f.PageNo() != 1 {
		return ErrTooLong
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
