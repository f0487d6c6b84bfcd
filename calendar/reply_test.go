package calendar

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// calPart is one text/calendar or application/ics part of a message.
type calPart struct {
	method string // the Content-Type method= parameter
	data   []byte // after Content-Transfer-Encoding
}

// calendarParts finds the calendar parts of a raw message with the
// standard library, as the mail side does: every text/calendar and
// application/ics leaf of the MIME tree, base64 and quoted-printable decoded.
func calendarParts(t testing.TB, raw []byte) []calPart {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail.ReadMessage() error = %v", err)
	}
	var out []calPart
	var walk func(ctype, cte string, body io.Reader)
	walk = func(ctype, cte string, body io.Reader) {
		if ctype == "" {
			ctype = "text/plain"
		}
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("ParseMediaType(%q) error = %v", ctype, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("NextRawPart() error = %v", err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		if mt != "text/calendar" && mt != "application/ics" {
			return
		}
		switch strings.ToLower(strings.TrimSpace(cte)) {
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("read %s part: %v", mt, err)
		}
		out = append(out, calPart{method: params["method"], data: data})
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out
}

// view is a Reply as the expected.json files write it; a test compares
// only the fields a file names.
func view(r Reply) map[string]any {
	m := map[string]any{
		"method": r.Method, "uid": r.UID, "attendee": r.Attendee, "partstat": nil,
		"recurrence_id": nil, "sequence": float64(r.Sequence), "stamp": nil, "comment": r.Comment,
		"delegated_to": r.DelegatedTo, "delegated_from": r.DelegatedFrom, "sent_by": r.SentBy, "proposed": nil,
	}
	if r.Partstat != "" {
		m["partstat"] = r.Partstat
	}
	if r.RecurrenceID != nil {
		m["recurrence_id"] = r.RecurrenceID.UTC().Format(isoUTC)
	}
	if !r.Stamp.IsZero() {
		m["stamp"] = r.Stamp.UTC().Format(isoUTC)
	}
	if p := r.Proposed; p != nil {
		m["proposed"] = map[string]any{"start": p.Start.UTC().Format(isoUTC),
			"end": p.End.UTC().Format(isoUTC), "location": p.Location}
	}
	return m
}

func compareView(t *testing.T, name string, got Reply, want map[string]any, fields []string) {
	t.Helper()
	if got.RecurrenceID != nil && got.RecurrenceID.Location() != time.UTC {
		t.Errorf("%s: RecurrenceID location = %v, want UTC", name, got.RecurrenceID.Location())
	}
	v := view(got)
	for _, f := range fields {
		w, ok := want[f]
		if !ok {
			continue
		}
		if f == "attendee" && w != nil {
			w = strings.ToLower(w.(string))
		}
		if !reflect.DeepEqual(v[f], w) {
			t.Errorf("%s: %s = %#v, want %#v", name, f, v[f], w)
		}
	}
}

// replyKey is how the daemon counts a reply once across parts.
func replyKey(r Reply) string {
	if r.RecurrenceID == nil {
		return r.UID
	}
	return r.UID + "|" + r.RecurrenceID.UTC().Format(isoUTC)
}

// TestParseRepliesCorpus runs the public corpus (testdata/itip, copied
// from the shared corpus): each message holds one answer, however many
// calendar parts carry it.
func TestParseRepliesCorpus(t *testing.T) {
	emls, _ := filepath.Glob("testdata/itip/*.eml")
	if len(emls) != 8 {
		t.Fatalf("found %d corpus messages, want 8", len(emls))
	}
	for _, path := range emls {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			raw := readFile(t, path)
			var want map[string]any
			if err := json.Unmarshal(readFile(t, strings.TrimSuffix(path, ".eml")+".expected.json"), &want); err != nil {
				t.Fatal(err)
			}
			parts := calendarParts(t, raw)
			if len(parts) == 0 {
				t.Fatal("no calendar part")
			}
			seen := map[string]Reply{}
			for i, p := range parts {
				replies, err := ParseReplies(p.data, p.method)
				if err != nil {
					t.Fatalf("part %d: ParseReplies() error = %v", i, err)
				}
				for _, r := range replies {
					if _, dup := seen[replyKey(r)]; !dup {
						seen[replyKey(r)] = r
					}
				}
			}
			if len(seen) != 1 {
				t.Fatalf("%d distinct replies in %d parts, want 1", len(seen), len(parts))
			}
			for _, r := range seen {
				compareView(t, name, r, want, []string{"method", "uid", "attendee", "partstat", "recurrence_id", "sequence"})
				t.Logf("%d part(s): %s %s %s %v seq %d", len(parts), r.Method, r.Attendee, r.Partstat, view(r)["recurrence_id"], r.Sequence)
			}
		})
	}
}

// moreCase is a testdata/itip-more/NAME.expected.json file.
type moreCase struct {
	Note     string           `json:"note"`
	CTMethod string           `json:"content_type_method"`
	Floating string           `json:"floating"`
	Sender   string           `json:"sender"`
	Error    string           `json:"error"`
	Replies  []map[string]any `json:"replies"`
}

var sentinels = map[string]error{"ErrMalformed": ErrMalformed, "ErrNotReply": ErrNotReply, "ErrUnknownZone": ErrUnknownZone}

// TestParseRepliesMore runs the cases beyond the corpus in
// testdata/itip-more: client shapes, time zone forms and broken input.
func TestParseRepliesMore(t *testing.T) {
	files, _ := filepath.Glob("testdata/itip-more/*.ics")
	if len(files) < 10 {
		t.Fatalf("found %d cases, want 10 or more", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".ics")
		t.Run(name, func(t *testing.T) {
			var c moreCase
			if err := json.Unmarshal(readFile(t, strings.TrimSuffix(path, ".ics")+".expected.json"), &c); err != nil {
				t.Fatal(err)
			}
			o := Options{Sender: c.Sender}
			if c.Floating != "" {
				o.Floating = mustLoad(t, c.Floating)
			}
			got, err := o.ParseReplies(readFile(t, path), c.CTMethod)
			if c.Error != "" {
				if !errors.Is(err, sentinels[c.Error]) {
					t.Fatalf("ParseReplies() = %d replies, error %v; want %s", len(got), err, c.Error)
				}
				t.Logf("error: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("ParseReplies() error = %v", err)
			}
			if len(got) != len(c.Replies) {
				t.Fatalf("ParseReplies() = %d replies, want %d", len(got), len(c.Replies))
			}
			for i, want := range c.Replies {
				var fields []string
				for f := range want {
					fields = append(fields, f)
				}
				compareView(t, name, got[i], want, fields)
			}
		})
	}
}

func TestParseRepliesSender(t *testing.T) {
	data := readFile(t, "testdata/itip-more/two-attendees.ics")
	for _, tc := range []struct{ sender, attendee, partstat string }{
		{"", "", ""},
		{"P.Okafor@example.ac.uk", "p.okafor@example.ac.uk", PartstatAccepted},
		{"lena.hansen@example.dk", "lena.hansen@example.dk", PartstatNeedsAction},
		{"someone@example.com", "", ""},
	} {
		got, err := Options{Sender: tc.sender}.ParseReplies(data, "REPLY")
		if err != nil || len(got) != 1 {
			t.Fatalf("Sender %q: ParseReplies() = %d replies, %v", tc.sender, len(got), err)
		}
		if got[0].Attendee != tc.attendee || got[0].Partstat != tc.partstat {
			t.Errorf("Sender %q: Attendee, Partstat = %q, %q; want %q, %q",
				tc.sender, got[0].Attendee, got[0].Partstat, tc.attendee, tc.partstat)
		}
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// A proposed time past 9999 (once in UTC) or before 1970 is malformed: the
// date has four year digits, and the database could not order it.
func TestCounterOutsideTheCalendarIsMalformed(t *testing.T) {
	data := string(readFile(t, "testdata/itip-more/counter-duration.ics"))
	for _, start := range []string{"DTSTART;TZID=Etc/GMT+12:99991231T233000", "DTSTART:19000101T000000Z"} {
		in := strings.Replace(data, "DTSTART;TZID=Europe/Copenhagen:20270609T091500", start, 1)
		if in == data {
			t.Fatal("the fixture changed")
		}
		got, err := ParseReplies([]byte(in), "COUNTER")
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseReplies() = %+v, %v; want ErrMalformed", start, got, err)
		}
	}
}
