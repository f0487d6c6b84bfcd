package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon/admin"
)

// calPart is one calendar part of a previewed message.
type calPart struct {
	Name     string `json:"name"`
	ICS      string `json:"ics"`
	CTMethod string `json:"-"`
}

// calendarParts returns the text/calendar and application/ics parts of a message.
func calendarParts(t *testing.T, name string, raw []byte) []calPart {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []calPart
	var walk func(ct, cte string, body io.Reader)
	walk = func(ct, cte string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("%s: Content-Type %q: %v", name, ct, err)
		}
		switch {
		case strings.HasPrefix(mt, "multipart/"):
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		case mt == "text/calendar" || mt == "application/ics":
			if strings.EqualFold(cte, "base64") {
				body = base64.NewDecoder(base64.StdEncoding, body)
			}
			b, _ := io.ReadAll(body)
			out = append(out, calPart{Name: name + "#" + mt, ICS: string(b), CTMethod: params["method"]})
		}
	}
	walk(m.Header.Get("Content-Type"), "", m.Body)
	return out
}

// parsedCal is the part of the external parsers' reading that this test checks.
type parsedCal struct {
	Name     string `json:"name"`
	Error    string `json:"error"`
	Parser   string `json:"parser"`
	Method   string `json:"method"`
	UID      string `json:"uid"`
	Sequence int    `json:"sequence"`
	Start    string `json:"start"`
	Status   string `json:"status"`
	Attendee []struct {
		Email string `json:"email"`
		RSVP  string `json:"rsvp"`
	} `json:"attendees"`
	Organizer struct {
		Email string `json:"email"`
	} `json:"organizer"`
}

// Every invite, update and cancellation `mentord preview` writes is read the
// same way by Mozilla's ical.js (Thunderbird) and Debian's python3-icalendar.
func TestPreviewInvitesReadByOutsideParsers(t *testing.T) {
	h := newHarness(t)
	h.mustRun(append(pairArgs, "--mentor-tz", "America/New_York", "--lang", "da")...)
	dir := t.TempDir()
	h.mustRun("preview", "--pair", "1", "-o", dir)
	var p admin.PairDetail
	json.Unmarshal([]byte(h.mustRun("pair", "show", "1", "--json")), &p)

	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 12*11+1 {
		t.Fatalf("%d files from preview, want 11 for each of 12 sessions and the year in review", len(files))
	}
	var parts []calPart
	kinds := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		kinds[strings.SplitN(base, "-", 3)[1]]++
		cp := calendarParts(t, base, raw)
		isCal := strings.Contains(base, "-invite-") || strings.Contains(base, "-update-") || strings.Contains(base, "-cancel-")
		if isCal != (len(cp) == 2) {
			t.Errorf("%s has %d calendar parts", base, len(cp))
		}
		parts = append(parts, cp...)
	}
	for _, k := range admin.PreviewKinds {
		if kinds[k] == 0 {
			t.Errorf("preview wrote no %s", k)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Name < parts[j].Name })
	in, _ := json.Marshal(parts)
	for _, parser := range []struct {
		name, install string
		cmd           []string
	}{
		{"ical.js", "npm ci --prefix calendar/testdata (scripts/install-test-deps.sh does it)", []string{"node", "../../calendar/testdata/parse_icaljs.mjs"}},
		{"python3-icalendar", "apt-get install python3-icalendar (scripts/install-test-deps.sh does it)", []string{"/usr/bin/python3", "../../calendar/testdata/parse_icalendar.py"}},
	} {
		cmd := exec.Command(parser.cmd[0], parser.cmd[1:]...)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s\ninstall it: %s", parser.name, err, stderr.String(), parser.install)
		}
		var got []parsedCal
		if err := json.Unmarshal(out, &got); err != nil || len(got) != len(parts) {
			t.Fatalf("%s: %v, %d results for %d parts", parser.name, err, len(got), len(parts))
		}
		for i, g := range got {
			part := parts[i]
			session := p.Sessions[sessionIndex(t, part.Name)]
			wantMethod := "REQUEST"
			if strings.Contains(part.Name, "-cancel-") {
				wantMethod = "CANCEL"
			}
			switch {
			case g.Error != "":
				t.Errorf("%s: %s: %s", parser.name, part.Name, g.Error)
			case g.Method != wantMethod || strings.HasPrefix(part.Name, "text/calendar") && part.CTMethod != g.Method:
				t.Errorf("%s: %s: METHOD %s (Content-Type method=%s), want %s", parser.name, part.Name, g.Method, part.CTMethod, wantMethod)
			case g.UID != session.UID || g.Start != session.StartsAt.UTC().Format("2006-01-02T15:04:05Z"):
				t.Errorf("%s: %s: UID %s start %s, want %s %s", parser.name, part.Name, g.UID, g.Start, session.UID, session.StartsAt.UTC())
			case g.Organizer.Email != "mentoring@example.org" || len(g.Attendee) != 2:
				t.Errorf("%s: %s: organizer %s, %d attendees", parser.name, part.Name, g.Organizer.Email, len(g.Attendee))
			case wantMethod == "REQUEST" && (g.Attendee[0].RSVP != "TRUE" || g.Status != "CONFIRMED"),
				wantMethod == "CANCEL" && g.Status != "CANCELLED":
				t.Errorf("%s: %s: status %s, attendees %+v", parser.name, part.Name, g.Status, g.Attendee)
			}
			if strings.Contains(part.Name, "-invite-") && g.Sequence != session.Sequence ||
				!strings.Contains(part.Name, "-invite-") && g.Sequence != session.Sequence+1 {
				t.Errorf("%s: %s: SEQUENCE %d", parser.name, part.Name, g.Sequence)
			}
		}
		t.Logf("%s read %d calendar parts", parser.name, len(got))
	}
}

// sessionIndex reads the session number from a preview file name ("03-invite-mentor.eml#...").
func sessionIndex(t *testing.T, name string) int {
	t.Helper()
	n := 0
	for _, c := range name[:2] {
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 12 {
		t.Fatalf("bad file name %s", name)
	}
	return n - 1
}
