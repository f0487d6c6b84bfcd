package decode

import (
	"bytes"
	"mime"
	"strings"
)

// Limits on the MIME tree (RELIABILITY.md section 7): Walk follows MaxDepth
// levels of multipart and reads MaxParts parts.
const (
	MaxDepth     = 10
	MaxParts     = 100
	maxOriginals = 5
)

// Tree is what the MIME walk collected from one message.
type Tree struct {
	topType    string    // media type of the message, lower-case
	ReportType string    // report-type of a top-level multipart/report, lower-case
	Plain      string    // the text/plain body (inline parts joined)
	html       []rawHTML // the text/html body, decoded only when read
	DSN        [][]byte  // message/delivery-status bodies (RFC 3464)
	Originals  [][]byte  // header blocks of embedded originals (message/rfc822, text/rfc822-headers)
	MDN, ARF   bool      // a disposition notification or feedback report part
	Calendar   []CalendarPart
	parts      int
}

// CalendarPart is one text/calendar or application/ics part.
type CalendarPart struct {
	Method string // Content-Type method= param, upper-case, may be ""
	Data   []byte
}

// ICalMethod reads the METHOD property of an iCalendar object (RFC 5545).
func ICalMethod(data []byte) string {
	if len(data) > 64<<10 {
		data = data[:64<<10]
	}
	for pos := 0; pos < len(data); {
		end, next := lineAt(data, pos)
		ln := data[pos:end]
		if len(ln) > 7 && bytes.EqualFold(ln[:7], []byte("METHOD:")) {
			return strings.ToUpper(strings.TrimSpace(string(ln[7:])))
		}
		pos = next
	}
	return ""
}

// texts is the body text found under one part.
type texts struct {
	plain []string
	html  []rawHTML
}

// rawHTML is an HTML part before its charset is decoded.
type rawHTML struct {
	b     []byte
	label string
}

func (h rawHTML) decode() string {
	label := h.label
	if label == "" {
		label = metaCharset(h.b)
	}
	return decodeCharset(h.b, label)
}

// Walk reads the MIME tree (RFC 2045/2046) of a message whose header block
// SplitHeader returned as fs and body.
func Walk(fs []Field, body []byte) *Tree {
	t := &Tree{}
	var params map[string]string
	t.topType, params = contentType(fs)
	if t.topType == "multipart/report" {
		t.ReportType = strings.ToLower(params["report-type"])
	}
	got := t.walk(fs, body, 0)
	t.Plain = strings.Join(got.plain, "\n")
	t.html = got.html
	return t
}

// BodyText is the text to read: text/plain when it holds text, else the HTML
// rendered to text. htmlFirst renders the HTML even when there is text/plain
// (reply's tests check that both say the same).
func (t *Tree) BodyText(htmlFirst bool) string {
	if htmlFirst && len(t.html) > 0 {
		return t.renderHTML()
	}
	if strings.TrimSpace(t.Plain) != "" {
		return t.Plain
	}
	if len(t.html) > 0 {
		return t.renderHTML()
	}
	return ""
}

func (t *Tree) renderHTML() string {
	parts := make([]string, len(t.html))
	for i, h := range t.html {
		parts[i] = h.decode()
	}
	return renderHTML(strings.Join(parts, "\n"))
}

func (t *Tree) walk(fs []Field, body []byte, depth int) texts {
	t.parts++
	if t.parts > MaxParts {
		return texts{}
	}
	mt, params := contentType(fs)
	cte := Get(fs, "content-transfer-encoding")
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return t.walkMultipart(mt, params, body, depth)
	case mt == "message/rfc822" || mt == "message/global" || mt == "text/rfc822-headers" ||
		mt == "message/global-headers":
		if len(t.Originals) < maxOriginals {
			t.Originals = append(t.Originals, decodeTransfer(body, cte))
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		if len(t.DSN) < maxOriginals {
			t.DSN = append(t.DSN, decodeTransfer(body, cte))
		}
	case mt == "message/disposition-notification":
		t.MDN = true
	case mt == "message/feedback-report":
		t.ARF = true
	case mt == "text/calendar" || mt == "application/ics" || mt == "text/x-vcalendar":
		t.Calendar = append(t.Calendar, CalendarPart{
			Method: strings.ToUpper(strings.TrimSpace(params["method"])),
			Data:   decodeTransfer(body, cte),
		})
	case mt == "text/plain" || mt == "text/html":
		if depth > 0 && isAttachment(fs, params) {
			return texts{}
		}
		return decodeText(mt, params, decodeTransfer(body, cte))
	}
	return texts{}
}

func (t *Tree) walkMultipart(mt string, params map[string]string, body []byte, depth int) texts {
	boundary := params["boundary"]
	if depth >= MaxDepth || boundary == "" {
		return texts{}
	}
	var out texts
	for _, p := range splitMultipart(body, boundary) {
		pf, pb, ok := ReadFields(p)
		if !ok {
			pf, pb = nil, p
		}
		got := t.walk(pf, pb, depth+1)
		if mt == "multipart/alternative" {
			if len(out.plain) == 0 && hasText(got.plain) {
				out.plain = got.plain
			}
			if len(out.html) == 0 && hasHTML(got.html) {
				out.html = got.html
			}
			continue
		}
		out.plain = append(out.plain, got.plain...)
		out.html = append(out.html, got.html...)
	}
	return out
}

func hasHTML(hs []rawHTML) bool {
	for _, h := range hs {
		if len(bytes.TrimSpace(h.b)) > 0 {
			return true
		}
	}
	return false
}

func hasText(ss []string) bool {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// decodeText turns a text part's bytes into normalised UTF-8.
func decodeText(mt string, params map[string]string, b []byte) texts {
	label := params["charset"]
	if mt == "text/html" {
		return texts{html: []rawHTML{{b: b, label: label}}}
	}
	s := decodeCharset(b, label)
	if strings.EqualFold(params["format"], "flowed") {
		s = unflow(strings.ReplaceAll(s, "\r\n", "\n"), strings.EqualFold(params["delsp"], "yes"))
	}
	return texts{plain: []string{NormalizeText(s)}}
}

// metaCharset finds a <meta> charset declaration near the start of an HTML body.
func metaCharset(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	low := bytes.ToLower(b)
	i := bytes.Index(low, []byte("charset="))
	if i < 0 {
		return ""
	}
	v := low[i+len("charset="):]
	v = bytes.TrimLeft(v, `"' `)
	end := bytes.IndexAny(v, `"'; />`)
	if end < 0 {
		return ""
	}
	return string(v[:end])
}

// contentType returns the lower-case media type and its parameters, reading a
// malformed value leniently. No Content-Type means text/plain (RFC 2045 5.2).
func contentType(fs []Field) (string, map[string]string) {
	v := Get(fs, "content-type")
	if v == "" {
		return "text/plain", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil && mt == "" {
		mt, params = lenientMediaType(v)
	}
	if params == nil {
		params = map[string]string{}
	}
	if !strings.Contains(mt, "/") {
		mt = "text/plain"
	}
	return mt, params
}

func lenientMediaType(v string) (string, map[string]string) {
	parts := strings.Split(v, ";")
	mt := strings.ToLower(strings.TrimSpace(parts[0]))
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := params[k]; !dup {
			params[k] = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return mt, params
}

// isAttachment reports whether a text part is an attachment rather than body.
func isAttachment(fs []Field, ctParams map[string]string) bool {
	v := Get(fs, "content-disposition")
	disp, params, _ := mime.ParseMediaType(v)
	if disp == "" {
		disp = strings.ToLower(strings.TrimSpace(strings.Split(v, ";")[0]))
	}
	switch {
	case disp == "attachment":
		return true
	case disp == "inline":
		return false
	}
	return params["filename"] != "" || ctParams["name"] != ""
}

// splitMultipart returns the bodies between the delimiter lines of a multipart
// body (RFC 2046 section 5.1.1). A missing close delimiter ends the last part
// at the end of the body.
func splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // start of the current part's content
	pos := 0
	for pos < len(body) && len(parts) < MaxParts {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		i += pos
		end, next := lineAt(body, i)
		rest := body[i+len(delim) : end]
		closing := bytes.HasPrefix(rest, []byte("--"))
		if closing {
			rest = rest[2:]
		}
		if (i > 0 && body[i-1] != '\n') || len(bytes.Trim(rest, " \t")) > 0 {
			pos = i + len(delim)
			continue
		}
		if start >= 0 {
			parts = append(parts, trimLineEnd(body[start:i]))
		}
		if closing {
			return parts
		}
		start, pos = next, next
	}
	if start >= 0 && start < len(body) && len(parts) < MaxParts {
		parts = append(parts, body[start:])
	}
	return parts
}

// trimLineEnd drops the line break that belongs to the next delimiter.
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
