package decode

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
)

// Limits on a header block (RELIABILITY.md section 7).
const (
	maxHeaderBytes  = 64 << 10
	maxHeaderFields = 1000
	maxIDs          = 100
)

// Field is one header field: the name lower-cased, the value unfolded and raw.
type Field struct {
	name, value string
}

// Get returns the first value of the named (lower-case) field.
func Get(fs []Field, name string) string {
	for _, f := range fs {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// Has reports whether the named (lower-case) field is present.
func Has(fs []Field, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}

// All returns every value of the named (lower-case) field.
func All(fs []Field, name string) []string {
	var out []string
	for _, f := range fs {
		if f.name == name {
			out = append(out, f.value)
		}
	}
	return out
}

// SplitHeader reads the header block at the start of a message and returns its
// fields and the body after the empty line. ok is false when b does not start
// with a header field. A block over maxHeaderBytes is read up to the limit and
// the rest of it skipped.
func SplitHeader(b []byte) (fs []Field, body []byte, ok bool) {
	if bytes.HasPrefix(b, []byte("From ")) { // an mbox separator line
		if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
			b = b[nl+1:]
		}
	}
	return ReadFields(b)
}

// ReadFields reads a header block (of a message or a MIME part).
func ReadFields(b []byte) (fs []Field, body []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, true
	}
	if e, _ := lineAt(b, 0); e > 0 {
		if _, _, isField := cutField(string(b[:min(e, 256)])); !isField && b[0] != ' ' && b[0] != '\t' {
			return nil, nil, false
		}
	}
	end, bodyAt := headerEnd(b)
	hs := string(b[:end]) // one copy; the fields are slices of it
	fs = make([]Field, 0, 16)
	var folded []string // continuation lines of the last field
	for pos := 0; pos < len(hs) && len(fs) < maxHeaderFields; {
		e, next := lineAtString(hs, pos)
		ln, start := hs[pos:e], pos
		pos = next
		if ln == "" {
			continue
		}
		if ln[0] == ' ' || ln[0] == '\t' {
			if t := strings.TrimSpace(ln); t != "" && len(fs) > 0 {
				folded = append(folded, t)
			}
			continue
		}
		unfold(fs, folded)
		folded = folded[:0]
		name, value, isField := cutField(ln)
		if !isField {
			if len(fs) == 0 {
				return nil, nil, false
			}
			return fs, b[start:], true // a line that is no field starts the body
		}
		fs = append(fs, Field{name: name, value: value})
	}
	unfold(fs, folded)
	return fs, b[bodyAt:], true
}

// unfold joins the continuation lines to the last field (RFC 5322 2.2.3).
func unfold(fs []Field, folded []string) {
	if len(folded) == 0 || len(fs) == 0 {
		return
	}
	v := &fs[len(fs)-1].value
	if *v != "" {
		*v += " "
	}
	*v += strings.Join(folded, " ")
}

// headerEnd finds the end of a header block and the start of the body: the
// first empty line, or maxHeaderBytes on (the rest of the block is skipped).
func headerEnd(b []byte) (end, bodyAt int) {
	for pos := 0; pos < len(b); {
		e, next := lineAt(b, pos)
		if e == pos {
			return pos, next
		}
		if pos > maxHeaderBytes {
			rest := skipToBody(b, pos)
			return pos, len(b) - len(rest)
		}
		pos = next
	}
	return len(b), len(b)
}

func lineAtString(s string, pos int) (end, next int) {
	nl := strings.IndexByte(s[pos:], '\n')
	if nl < 0 {
		end, next = len(s), len(s)
	} else {
		end, next = pos+nl, pos+nl+1
	}
	if end > pos && s[end-1] == '\r' {
		end--
	}
	return end, next
}

// lineAt returns the end of the line starting at pos (without CR LF) and the
// start of the next line.
func lineAt(b []byte, pos int) (end, next int) {
	nl := bytes.IndexByte(b[pos:], '\n')
	if nl < 0 {
		end, next = len(b), len(b)
	} else {
		end, next = pos+nl, pos+nl+1
	}
	if end > pos && b[end-1] == '\r' {
		end--
	}
	return end, next
}

// skipToBody finds the body after an over-long header block.
func skipToBody(b []byte, pos int) []byte {
	for pos < len(b) {
		end, next := lineAt(b, pos)
		if end == pos {
			return b[next:]
		}
		pos = next
	}
	return nil
}

// cutField splits "Name: value". The name is printable ASCII without a colon;
// white space before the colon is tolerated (RFC 5322 section 4.5.3).
func cutField(ln string) (name, value string, ok bool) {
	colon := strings.IndexByte(ln, ':')
	if colon <= 0 || colon > 200 {
		return "", "", false
	}
	n := strings.TrimRight(ln[:colon], " \t")
	if n == "" {
		return "", "", false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c <= ' ' || c >= 0x7f {
			return "", "", false
		}
	}
	if known, ok := knownFields[n]; ok {
		name = known
	} else {
		name = strings.ToLower(n)
	}
	return name, strings.TrimSpace(ln[colon+1:]), true
}

// knownFields spares lower-casing the usual field names.
var knownFields = map[string]string{}

func init() {
	for _, n := range []string{"From", "To", "Cc", "Subject", "Date", "Message-ID", "Message-Id",
		"In-Reply-To", "References", "MIME-Version", "Mime-Version", "Content-Type",
		"Content-Transfer-Encoding", "Content-Disposition", "Content-ID", "Content-Language",
		"Return-Path", "Received", "Delivered-To", "X-Original-To", "Authentication-Results",
		"Auto-Submitted", "Precedence", "Reply-To", "Sender", "Thread-Topic", "Thread-Index",
		"Accept-Language", "X-Mailer", "User-Agent", "DKIM-Signature", "ARC-Seal",
		"ARC-Message-Signature", "ARC-Authentication-Results", "X-MS-Has-Attach",
		"X-MS-TNEF-Correlator", "X-Attachment-Id", "Received-SPF", "List-Id", "List-Unsubscribe"} {
		knownFields[n] = strings.ToLower(n)
		knownFields[strings.ToLower(n)] = strings.ToLower(n)
	}
}

// wordDecoder decodes RFC 2047 encoded words in any charset the charset
// table knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// HeaderText decodes RFC 2047 words; raw 8-bit bytes are read as UTF-8,
// else windows-1252.
func HeaderText(s string) string {
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	return toUTF8(s)
}

var addrParser = netmail.AddressParser{WordDecoder: wordDecoder}

// Mailbox reads a From value: the bare lower-cased address and the decoded
// display name.
func Mailbox(v string) (addr, name string) {
	if v == "" {
		return "", ""
	}
	if a, n, ok := simpleAddress(v); ok {
		return a, n
	}
	if a, err := addrParser.Parse(v); err == nil {
		return strings.ToLower(a.Address), toUTF8(a.Name)
	}
	addr = Address(v)
	if lt := strings.IndexByte(v, '<'); lt > 0 {
		name = strings.Trim(strings.TrimSpace(v[:lt]), `"' `)
	}
	return addr, HeaderText(name)
}

// simpleAddress reads the common plain forms "Name <addr>" and "addr"
// without the full RFC 5322 parser.
func simpleAddress(v string) (addr, name string, ok bool) {
	if strings.ContainsAny(v, "\"(),;\\=") || !strings.HasSuffix(v, ">") && strings.Contains(v, "<") {
		return "", "", false
	}
	lt := strings.IndexByte(v, '<')
	if lt < 0 {
		addr = v
	} else {
		addr, name = v[lt+1:len(v)-1], strings.TrimSpace(v[:lt])
	}
	if at := strings.IndexByte(addr, '@'); at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " <>\t") {
		return "", "", false
	}
	return strings.ToLower(addr), toUTF8(name), true
}

// Address extracts the lower-cased address from "Name <addr>", "<addr>" or
// "addr"; "<>" gives "".
func Address(v string) string {
	if lt := strings.LastIndexByte(v, '<'); lt >= 0 {
		if gt := strings.IndexByte(v[lt:], '>'); gt >= 0 {
			return strings.ToLower(strings.TrimSpace(v[lt+1 : lt+gt]))
		}
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		if strings.Contains(w, "@") {
			return strings.ToLower(strings.Trim(w, `"'()<>`))
		}
	}
	return ""
}

// Addresses parses address fields into bare lower-cased addresses.
func Addresses(vs []string) []string {
	var out []string
	for _, v := range vs {
		if list, err := addrParser.ParseList(v); err == nil {
			for _, a := range list {
				out = append(out, strings.ToLower(a.Address))
			}
			continue
		}
		for _, part := range strings.Split(v, ",") {
			if a := Address(part); a != "" {
				out = append(out, a)
			}
		}
	}
	return out
}

// MessageIDs returns the ids in a Message-ID, In-Reply-To or References value,
// without angle brackets.
func MessageIDs(v string) []string {
	var out []string
	for len(out) < maxIDs {
		lt := strings.IndexByte(v, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(v[lt:], '>')
		if gt < 0 {
			break
		}
		if id := strings.TrimSpace(v[lt+1 : lt+gt]); id != "" {
			out = append(out, id)
		}
		v = v[lt+gt+1:]
	}
	if out == nil {
		for _, w := range strings.Fields(v) {
			if strings.Contains(w, "@") && len(out) < maxIDs {
				out = append(out, strings.Trim(w, "<>,"))
			}
		}
	}
	return out
}

// Date reads a Date value (RFC 5322 section 3.3, leniently); the zero time
// when it cannot.
func Date(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	bare := v
	if i := strings.IndexByte(bare, '('); i > 0 {
		bare = strings.TrimSpace(bare[:i])
	}
	for _, layout := range []string{"Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, bare); err == nil {
			return t
		}
	}
	if t, err := netmail.ParseDate(v); err == nil {
		return t
	}
	if i := strings.IndexByte(v, '('); i > 0 { // a trailing comment netmail rejects
		if t, err := netmail.ParseDate(strings.TrimSpace(v[:i])); err == nil {
			return t
		}
	}
	return time.Time{}
}
