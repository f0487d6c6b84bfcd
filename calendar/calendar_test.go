package calendar

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type sample struct {
	name   string // golden file testdata/<name>.ics
	method string
	event  Event
}

func (s sample) build() ([]byte, error) {
	if s.method == MethodCancel {
		return Cancel(s.event)
	}
	return Request(s.event)
}

var (
	stamp   = time.Date(2025, 3, 14, 8, 30, 0, 0, time.UTC)
	cest    = time.FixedZone("CEST", 2*3600)
	org     = Person{Name: "Staff Mentoring Programme", Email: "mentoring@uni.example"}
	mentor  = Person{Name: "Søren Ærø-Østergård", Email: "soren.ostergaard@uni.example"}
	mentee  = Person{Name: "Åse Lindqvist", Email: "ase.lindqvist@uni.example"}
	session = Event{
		UID: "20250314T083000Z-42-1@mentord.uni.example", Stamp: stamp,
		Start:   time.Date(2025, 4, 2, 14, 0, 0, 0, cest),
		End:     time.Date(2025, 4, 2, 15, 0, 0, 0, cest),
		Summary: "Mentoring session 1 of 6", Location: "Main building, room 1.23",
		Description: "First meeting: get to know each other.\nBring your goals for the year.",
		Organizer:   org,
		Attendees:   []Attendee{{Person: mentor}, {Person: mentee}},
	}
)

// with returns a copy of session changed by f (attendees copied too).
func with(f func(e *Event)) Event {
	e := session
	e.Attendees = append([]Attendee(nil), session.Attendees...)
	f(&e)
	return e
}

// samples are the objects checked by the golden, structural and external
// parser tests.
func samples() []sample {
	return []sample{
		{"request-basic", MethodRequest, session},
		{"request-danish", MethodRequest, with(func(e *Event) {
			e.Sequence = 3
			e.Summary = "Mentorsamtale: Søren & Åse; møde 3, forår"
			e.Description = "Kære Åse,\n\nVi mødes på kontoret i Ærøskøbing; husk kaffe, æbler og " +
				"blåbærkage.\nDagsorden: mål, ønsker, næste skridt.\n\nMed venlig hilsen, Søren"
			e.Location = "Østre Allé 7, 2. sal; lokale Ø-12"
			e.Attendees[0].Partstat = PartstatAccepted
			e.Attendees[1].Partstat = "tentative"
		})},
		{"request-cjk", MethodRequest, with(func(e *Event) {
			e.Summary = "メンタリング面談：目標設定と振り返り（第二回）、研究計画について話し合う"
			e.Description = "山田先生、こんにちは。\n今回の面談では、研究計画・教育負担・キャリア形成について" +
				"話し合います。資料は事前に共有してください；よろしくお願いします。\n导师计划：每月一次会议，讨论进展。"
			e.Location = "本館 三階 会議室 B"
			e.Attendees = []Attendee{{Person: Person{"山田 太郎", "yamada@uni.example"}},
				{Person: Person{"李小龙", "li.xiaolong@uni.example"}, Partstat: PartstatDeclined}}
		})},
		{"request-emoji", MethodRequest, with(func(e *Event) {
			e.Summary = "☕ Coffee chat 🎉🎉 with your mentor 👩🏽‍🏫 and mentee 🧑‍🔬 — 🇩🇰🇯🇵🇧🇷 edition 🚀🚀🚀🚀"
			e.Description = strings.Repeat("🙂😀🎓📚", 12) + "\nEnd 👋🏻"
			e.Attendees[1].Name = "Åse 🌻 Lindqvist"
		})},
		{"request-escapes", MethodRequest, with(func(e *Event) {
			e.Summary = "  Review: goals; plan, \"next\" steps\tand\r\nmore  "
			e.Description = "Commas, semicolons; colons: and a backslash \\ here.\r\n" +
				"Windows line\r\nOld Mac line\rTab\there, bell\a gone, NUL\x00 gone, invalid \xff byte.\n" +
				`Literal \n and \, and \; and \\ stay as typed.` + "\n\n\nTrailing newline\n"
			e.Location = "Room \"B\"; floor 2, wing C"
			e.Organizer.Name = `Mentoring "Programme"; HR, Office: Staff`
			e.Attendees[0].Name = `Dr. O'Neil, Pat ^'quoted^' ^^ ^n ^x`
			e.Attendees[1].Name = " Åse: the \"mentee\" "
		})},
		{"request-utc-no-location", MethodRequest, with(func(e *Event) {
			e.Stamp = time.Date(2025, 3, 14, 9, 30, 0, 999, cest)
			e.Start = time.Date(2025, 10, 26, 0, 30, 0, 0, time.UTC) // the night DST ends in the EU
			e.End = time.Date(2025, 10, 26, 2, 30, 0, 0, time.UTC)
			e.Location, e.Description = "", ""
			e.Attendees = e.Attendees[1:]
		})},
		{"request-long-ascii", MethodRequest, with(func(e *Event) {
			e.UID = strings.Repeat("0123456789abcdef", 12) + "@mentord.uni.example"
			e.Summary = strings.Repeat("Long summary text without any special characters ", 4)
			e.Description = strings.Repeat("x", 75) + "\n" + strings.Repeat("y", 74) + "\n" + strings.Repeat("z", 300)
			e.Location = strings.Repeat("Location ", 20)
			e.Organizer.Email = "a.very.long.programme.mailbox.name.for.staff.mentoring@faculty.uni.example"
			e.Attendees[0].Name = strings.Repeat("Name ", 20)
		})},
		{"cancel-basic", MethodCancel, with(func(e *Event) { e.Sequence = 1 })},
		{"cancel-danish", MethodCancel, with(func(e *Event) {
			e.Sequence = 4
			e.Summary = "Aflyst: Mentorsamtale, møde 3"
			e.Description = "Mødet er aflyst; vi finder en ny dato.\nHilsen, Søren"
			e.Attendees = e.Attendees[1:]
			e.Attendees[0].Partstat = PartstatAccepted
		})},
	}
}

func TestGolden(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			got, err := s.build()
			if err != nil {
				t.Fatalf("%s() error = %v", s.method, err)
			}
			path := filepath.Join("testdata", s.name+".ics")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./calendar/ -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s() differs from %s (rerun with -update if intended):\n%s", s.method, path, got)
			}
		})
	}
}

func TestStructureAndGoicalRoundTrip(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			b, err := s.build()
			if err != nil {
				t.Fatalf("%s() error = %v", s.method, err)
			}
			for _, p := range structureProblems(b, s.method) {
				t.Error(p)
			}
			got, err := decodeGoical(b)
			if err != nil {
				t.Fatalf("go-ical decode: %v", err)
			}
			for _, d := range diff(got, expect(s.method, s.event), nil) {
				t.Errorf("go-ical read %s", d)
			}
		})
	}
}

func TestContentTypeMatchesMethod(t *testing.T) {
	for ct, m := range map[string]string{ContentTypeRequest: MethodRequest, ContentTypeCancel: MethodCancel} {
		if !strings.HasPrefix(ct, "text/calendar;") || !strings.HasSuffix(ct, "; method="+m) {
			t.Errorf("content type %q does not carry method=%s", ct, m)
		}
	}
}

func TestTextEscaping(t *testing.T) {
	e := with(func(e *Event) {
		e.Summary = `a\b;c,d`
		e.Description = "line1\nline2;x,y\\z"
	})
	b, err := Request(e)
	if err != nil {
		t.Fatal(err)
	}
	text := string(unfold(b))
	for _, want := range []string{
		"\r\nSUMMARY:a\\\\b\\;c\\,d\r\n",
		"\r\nDESCRIPTION:line1\\nline2\\;x\\,y\\\\z\r\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Request() lacks %q in\n%s", want, text)
		}
	}
}

func TestCancelHasNoRSVP(t *testing.T) {
	b, err := Cancel(session)
	if err != nil {
		t.Fatal(err)
	}
	text := string(unfold(b))
	if strings.Contains(text, "RSVP") || !strings.Contains(text, "\r\nSTATUS:CANCELLED\r\n") {
		t.Errorf("Cancel() = \n%s\nwant STATUS:CANCELLED and no RSVP", text)
	}
	if n := strings.Count(text, "\r\nATTENDEE;"); n != len(session.Attendees) {
		t.Errorf("Cancel() has %d ATTENDEE lines, want %d", n, len(session.Attendees))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		event Event
		want  string // substring of the error
	}{
		{"empty uid", with(func(e *Event) { e.UID = "" }), "uid: empty"},
		{"uid with comma", with(func(e *Event) { e.UID = "a,b@x" }), "uid: holds"},
		{"uid with newline", with(func(e *Event) { e.UID = "a\r\nSUMMARY:x" }), "uid: holds"},
		{"negative sequence", with(func(e *Event) { e.Sequence = -1 }), "sequence: -1"},
		{"zero stamp", with(func(e *Event) { e.Stamp = time.Time{} }), "stamp: not set"},
		{"zero start", with(func(e *Event) { e.Start = time.Time{} }), "start: not set"},
		{"year 10000", with(func(e *Event) { e.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), "end: year 10000"},
		{"end before start", with(func(e *Event) { e.End = e.Start.Add(-time.Hour) }), "end: not after start"},
		{"end equal start", with(func(e *Event) { e.End = e.Start }), "end: not after start"},
		{"end within the same second", with(func(e *Event) { e.End = e.Start.Add(time.Millisecond) }), "end: not after start"},
		{"blank summary", with(func(e *Event) { e.Summary = " \r\n\t\a" }), "summary: empty"},
		{"organizer without email", with(func(e *Event) { e.Organizer.Email = "" }), "organizer.email: empty"},
		{"organizer display form", with(func(e *Event) { e.Organizer.Email = "Prog <p@uni.example>" }), "organizer.email: holds a space"},
		{"organizer brackets", with(func(e *Event) { e.Organizer.Email = "<p@uni.example>" }), "organizer.email: not a plain address"},
		{"organizer mailto", with(func(e *Event) { e.Organizer.Email = "mailto:p@uni.example" }), "without mailto:"},
		{"no at sign", with(func(e *Event) { e.Attendees[0].Email = "soren" }), "attendees[0].email: not a plain address"},
		{"percent", with(func(e *Event) { e.Attendees[0].Email = "a%b@uni.example" }), "percent-encoded"},
		{"non-ascii address", with(func(e *Event) { e.Attendees[1].Email = "åse@uni.example" }), "attendees[1].email: holds"},
		{"quoted local part", with(func(e *Event) { e.Attendees[1].Email = `"ase"@uni.example` }), "not a plain address"},
		{"name with CRLF", with(func(e *Event) { e.Attendees[1].Name = "Åse\r\nBcc: x@evil.example" }), "attendees[1].name: holds a line break"},
		{"name with tab", with(func(e *Event) { e.Organizer.Name = "a\tb" }), "organizer.name: holds"},
		{"name invalid utf-8", with(func(e *Event) { e.Organizer.Name = "a\xffb" }), "organizer.name: not valid UTF-8"},
		{"long name", with(func(e *Event) { e.Attendees[0].Name = strings.Repeat("ø", 129) }), "attendees[0].name: longer than 256"},
		{"no attendees", with(func(e *Event) { e.Attendees = nil }), "attendees: none"},
		{"bad partstat", with(func(e *Event) { e.Attendees[0].Partstat = "MAYBE" }), "attendees[0].partstat"},
		{"duplicate attendee", with(func(e *Event) { e.Attendees[1].Email = strings.ToUpper(mentor.Email) }), "attendees[1].email: same address as attendees[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, build := range []func(Event) ([]byte, error){Request, Cancel} {
				b, err := build(tt.event)
				if err == nil || !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error = %v, want ErrInvalidEvent with %q", err, tt.want)
				}
				if b != nil {
					t.Errorf("bytes = %q, want nil on error", b)
				}
				// Errors get logged: they must not carry people's names or addresses.
				for _, secret := range []string{"uni.example", "evil.example", "Åse", "Søren"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q reveals %q", err, secret)
					}
				}
			}
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	err := Event{}.Validate()
	for _, want := range []string{"uid:", "stamp:", "start:", "end:", "summary:", "organizer.email:", "attendees:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Event{}.Validate() = %v, want a %q problem", err, want)
		}
	}
}

// FuzzRequest feeds arbitrary texts and names to Request and Cancel. They
// must never panic; they may refuse only blank summaries and names with
// control characters, invalid UTF-8 or over 256 octets; whatever they
// return must be well-formed (lines of at most 75 octets, CRLF, one METHOD)
// and read back by go-ical with every text and name as cleaned.
func FuzzRequest(f *testing.F) {
	f.Add("Mentoring session", "Line 1\nLine 2", "Room 1", "Programme", "Søren")
	f.Add(`a\b;c,d:e"f`, "x\r\ny\rz\\n\\,", "æøå 日本 🎉", `Q "u" ^'^n^^`, "Åse, B; C: D")
	f.Add(strings.Repeat("🎉", 40), strings.Repeat("æ", 200), strings.Repeat("日", 80), strings.Repeat("ø", 90), "x")
	f.Add(" ", "\x00\x07\x1b\x7f\u0085", "\xff\xfe", "a\r\nb", "a\tb")
	f.Add("x", "", "", "", "")
	f.Fuzz(func(t *testing.T, summary, description, location, orgName, attName string) {
		e := with(func(e *Event) {
			e.Summary, e.Description, e.Location = summary, description, location
			e.Organizer.Name, e.Attendees[0].Name = orgName, attName
		})
		valid := cleanLine(summary) != "" && okName(orgName) && okName(attName)
		for _, method := range []string{MethodRequest, MethodCancel} {
			b, err := sample{"fuzz", method, e}.build()
			if err != nil {
				if valid || !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("%s() error = %v for valid input", method, err)
				}
				continue
			}
			if !valid {
				t.Fatalf("%s() accepted an event Validate should refuse", method)
			}
			for _, p := range structureProblems(b, method) {
				t.Error(p)
			}
			got, err := decodeGoical(b)
			if err != nil {
				t.Fatalf("go-ical decode: %v\n%s", err, b)
			}
			for _, d := range diff(got, expect(method, e), nil) {
				t.Errorf("go-ical read %s", d)
			}
		}
	})
}

func okName(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 && len(s) <= maxNameOctets
}

func BenchmarkRequest(b *testing.B) {
	e := samples()[1].event
	for b.Loop() {
		if _, err := Request(e); err != nil {
			b.Fatal(err)
		}
	}
}
