package calendar

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A DECLINECOUNTER answers the proposer's COUNTER (RFC 5546 section 3.2.8):
// the same UID and SEQUENCE, the proposer as the one ATTENDEE, no RSVP
// asked, the event's time as it stands; read as such by the shared validator.
func TestDeclineCounter(t *testing.T) {
	e := session
	e.Sequence = 2
	e.Attendees = e.Attendees[:1]
	b, err := DeclineCounter(e, "Thursdays I teach, sorry.")
	if err != nil {
		t.Fatal(err)
	}
	ics := string(b)
	for _, want := range []string{"METHOD:DECLINECOUNTER\r\n", "UID:" + e.UID + "\r\n", "SEQUENCE:2\r\n", "ORGANIZER"} {
		if !strings.Contains(ics, want) {
			t.Errorf("DECLINECOUNTER lacks %q:\n%s", want, ics)
		}
	}
	if strings.Count(ics, "ATTENDEE") != 1 || strings.Contains(ics, "RSVP") {
		t.Errorf("want the proposer alone, and no RSVP:\n%s", ics)
	}
	tool, _ := filepath.Abs("../../shared/tools/validate_ics.sh")
	if _, err := os.Stat(tool); err != nil {
		t.Logf("no %s: not validated here", tool)
		return
	}
	f := filepath.Join(t.TempDir(), "declinecounter.ics")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// libical's iTIP table allows no ATTENDEE and no SEQUENCE here; RFC 5546
	// section 3.2.8 (and ITIP.md section 5.8) wants the proposer and the
	// original SEQUENCE. Every other validator, and every other check, must pass.
	out, _ := exec.Command("bash", tool, "--method", "DECLINECOUNTER", f).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "FAIL ") && !strings.HasPrefix(line, "WARN ") {
			continue
		}
		if strings.HasPrefix(line, "FAIL libical") && (strings.Contains(line, "for ATTENDEE property") || strings.Contains(line, "for SEQUENCE property")) {
			continue
		}
		t.Errorf("validate_ics.sh: %s", line)
	}
}
