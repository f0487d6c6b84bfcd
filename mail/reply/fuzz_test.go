package reply

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mentord/mentord/mail/reply/decode"
)

// FuzzParse feeds Parse arbitrary bytes, seeded with every testdata message:
// it must not panic, and what it returns must stay within the input's bounds.
func FuzzParse(f *testing.F) {
	for _, dir := range caseDirs {
		emls, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for _, e := range emls {
			raw, err := os.ReadFile(e)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw, false)
		}
	}
	prompt := promptFromBody("Hi,\n\n1. What went well?\n\n2. What didn't?\n\n-- \nmentord\n")
	f.Fuzz(func(t *testing.T, raw []byte, withPrompt bool) {
		opts := Options{MaxBytes: 1 << 20}
		if withPrompt {
			opts.Prompt = prompt
		}
		res, err := Parse(raw, opts)
		if errors.Is(err, errInternal) {
			t.Fatalf("panic: %v", err)
		}
		if err != nil {
			return
		}
		checkBounds(t, raw, res)
	})
}

func checkBounds(t *testing.T, raw []byte, res *Result) {
	t.Helper()
	switch res.Kind {
	case KindReply, KindAutoReply, KindBounce, KindCalendar, KindOther:
	default:
		t.Fatalf("Kind = %q", res.Kind)
	}
	limit := 8*len(raw) + 4096 // decoding can grow text (entities, charsets), never without bound
	if len(res.NewText) > limit {
		t.Fatalf("NewText is %d bytes from %d", len(res.NewText), len(raw))
	}
	if !utf8.ValidString(res.NewText) {
		t.Fatalf("NewText is not UTF-8: %q", res.NewText)
	}
	if res.Kind != KindReply && res.Kind != KindCalendar && (res.NewText != "" || len(res.Answers) > 0) {
		t.Fatalf("%s with text or answers", res.Kind)
	}
	for n, a := range res.Answers {
		if n < 1 || n > 30 || a == "" || !utf8.ValidString(a) || len(a) > limit {
			t.Fatalf("answer %d = %q", n, a)
		}
		if strings.Contains(a, decode.QuoteStart) || strings.Contains(res.NewText, decode.QuoteStart) {
			t.Fatal("sentinel leaked")
		}
	}
	if res.Bounce != nil && len(res.Bounce.Recipients) > maxRecipients {
		t.Fatalf("%d bounce recipients", len(res.Bounce.Recipients))
	}
	if len(res.Calendar) > decode.MaxParts {
		t.Fatalf("%d calendar parts", len(res.Calendar))
	}
}

// TestHostileInputs runs shapes built to be slow or big through Parse; the
// benchmark of the same name measures them at 9 MiB (time grows linearly).
func TestHostileInputs(t *testing.T) {
	for name, raw := range hostileInputs(1 << 20) {
		res, err := Parse(raw, Options{})
		if errors.Is(err, errInternal) {
			t.Fatalf("%s: %v", name, err)
		}
		if err == nil {
			checkBounds(t, raw, res)
		}
	}
}

func BenchmarkHostileInputs(b *testing.B) {
	for name, raw := range hostileInputs(9 << 20) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				_, _ = Parse(raw, Options{})
			}
		})
	}
}

// hostileInputs are messages of about size bytes shaped to be slow or big.
func hostileInputs(size int) map[string][]byte {
	hdr := "From: a@example.org\r\nSubject: Re: x\r\n"
	rep := func(s string) string { return strings.Repeat(s, size/len(s)) }
	return map[string][]byte{
		"quote lines":       []byte(hdr + "\r\n" + rep("> 1. What went well?\r\n")),
		"numbered lines":    []byte(hdr + "\r\n" + rep("1. a\r\n2. b\r\n")),
		"colon lines":       []byte(hdr + "\r\n" + rep("On 2027 x@y wrote:\r\n")),
		"header labels":     []byte(hdr + "\r\n" + rep("From: a@b 2027\r\n")),
		"one long line":     []byte(hdr + "\r\n" + rep("word ")),
		"html nesting":      []byte(hdr + "Content-Type: text/html\r\n\r\n" + rep("<div><blockquote>")),
		"html entities":     []byte(hdr + "Content-Type: text/html\r\n\r\n" + rep("&amp;&lt;")),
		"many parts":        []byte(hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + rep("--b\r\n\r\nx\r\n")),
		"deep multipart":    []byte(hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + rep("--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")),
		"base64 garbage":    []byte(hdr + "Content-Transfer-Encoding: base64\r\n\r\n" + rep("!@#$%^&*()")),
		"qp equals":         []byte(hdr + "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + rep("=")),
		"folded header":     []byte("From: a@example.org\r\nSubject: x" + rep("\r\n y") + "\r\n\r\nbody"),
		"many fields":       []byte(rep("X-A: b\r\n") + "\r\nbody"),
		"signature lines":   []byte(hdr + "\r\n" + rep("Thanks,\r\nBob\r\n")),
		"blank lines":       []byte(hdr + "\r\na\r\n" + rep("\r\n") + "b\r\n— Bob\r\n" + rep("\r\n")),
		"dash lines":        []byte(hdr + "\r\n" + rep("—\r\n\r\n")),
		"dsn recipients":    []byte(hdr + "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" + rep("Final-Recipient: rfc822; a@b\r\nAction: failed\r\n\r\n")),
		"flowed soft lines": []byte(hdr + "Content-Type: text/plain; format=flowed\r\n\r\n" + rep("a \r\n")),
	}
}
