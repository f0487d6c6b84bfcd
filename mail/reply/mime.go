package reply

import (
	"bytes"
	"mime"
	"strings"
)

// Limits on the MIME tree (RELIABILITY.md section 7).
const (
	maxDepth     = 10
	maxParts     = 100
	maxOriginals = 5
)

// tree is what the MIME walk collected from one message.
type tree struct {
	topType    string    // media type of the message, lower-case
	reportType string    // report-type of a top-level multipart/report, lower-case
	plain      string    // the text/plain body (inline parts joined)
	html       []rawHTML // the text/html body, decoded only when read
	dsn        [][]byte
	originals  [][]byte // header blocks of embedded originals (message/rfc822, text/rfc822-headers)
	mdn, arf   bool     // a disposition notification or feedback report part
	calendar   []CalendarPart
	parts      int
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

func walkMessage(fs []field, body []byte) *tree {
	t := &tree{}
	var params map[string]string
	t.topType, params = contentType(fs)
	if t.topType == "multipart/report" {
		t.reportType = strings.ToLower(params["report-type"])
	}
	got := t.walk(fs, body, 0)
	t.plain = strings.Join(got.plain, "\n")
	t.html = got.html
	return t
}

// bodyText is the text to read: text/plain when it holds text, else the HTML
// rendered to text.
func (t *tree) bodyText(htmlFirst bool) string {
	if htmlFirst && len(t.html) > 0 {
		return t.renderHTML()
	}
	if strings.TrimSpace(t.plain) != "" {
		return t.plain
	}
	if len(t.html) > 0 {
		return t.renderHTML()
	}
	return ""
}

func (t *tree) renderHTML() string {
	parts := make([]string, len(t.html))
	for i, h := range t.html {
		parts[i] = h.decode()
	}
	return renderHTML(strings.Join(parts, "\n"))
}

func (t *tree) walk(fs []field, body []byte, depth int) texts {
	t.parts++
	if t.parts > maxParts {
		return texts{}
	}
	mt, params := contentType(fs)
	cte := get(fs, "content-transfer-encoding")
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return t.walkMultipart(mt, params, body, depth)
	case mt == "message/rfc822" || mt == "message/global" || mt == "text/rfc822-headers" ||
		mt == "message/global-headers":
		if len(t.originals) < maxOriginals {
			t.originals = append(t.originals, decodeTransfer(body, cte))
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		if len(t.dsn) < maxOriginals {
			t.dsn = append(t.dsn, decodeTransfer(body, cte))
		}
	case mt == "message/disposition-notification":
		t.mdn = true
	case mt == "message/feedback-report":
		t.arf = true
	case mt == "text/calendar" || mt == "application/ics" || mt == "text/x-vcalendar":
		t.calendar = append(t.calendar, CalendarPart{
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

func (t *tree) walkMultipart(mt string, params map[string]string, body []byte, depth int) texts {
	boundary := params["boundary"]
	if depth >= maxDepth || boundary == "" {
		return texts{}
	}
	var out texts
	for _, p := range splitMultipart(body, boundary) {
		pf, pb, ok := readFields(p)
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
	return texts{plain: []string{normalizeText(s)}}
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
func contentType(fs []field) (string, map[string]string) {
	v := get(fs, "content-type")
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
func isAttachment(fs []field, ctParams map[string]string) bool {
	v := get(fs, "content-disposition")
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
	for pos < len(body) && len(parts) < maxParts {
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
	if start >= 0 && start < len(body) && len(parts) < maxParts {
		parts = append(parts, body[start:])
	}
	return parts
}

// trimLineEnd drops the line break that belongs to the next delimiter.
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
