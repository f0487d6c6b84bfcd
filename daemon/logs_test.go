package daemon

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/mentord/mentord/daemon/store"
)

// Below debug level the log names nobody (README: "Mentees' words, full
// addresses and protocol traces only at debug level"): a representative
// stretch of the programme runs at info level — invitations, checklists,
// replies and corrections, calendar answers, declines and a proposed time,
// bounces until an address is suspended, a calendar answer for someone not
// invited, and an SMTP server that refuses one recipient for good and defers
// another — and no name or address of the people appears in the log.
func TestInfoLogNamesNobody(t *testing.T) {
	logs := &syncBuffer{}
	simLog = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t.Cleanup(func() { simLog = nil })
	r := newRecords(t) // ends on 2027-03-20 12:00 UTC

	// A calendar answer for someone who was never invited.
	const stranger = "zed.stranger@example.net"
	raw := string(r.rsvp(t, menteeAddr, stranger, "REPLY", "ACCEPTED", 0, r.now, ""))
	raw = strings.Replace(raw, "mailto:"+strings.ToUpper(menteeAddr), "mailto:"+stranger, 1)
	if out := r.ingest([]byte(raw)); out.Outcome == store.OutcomeLogged {
		t.Fatalf("a stranger's calendar answer was logged: %+v", out)
	}
	// The server refuses the mentor's next messages for good, and defers Eve's.
	r.sink.Fail(mentorAddr, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "<" + mentorAddr + ">: Recipient address rejected: User unknown (Ada Lovelace)"})
	r.sink.Fail(eveAddr, &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0},
		Message: "<" + eveAddr + ">: mailbox busy"})
	r.runUntil(utc("2027-04-20T12:00Z"))

	log := logs.String()
	for _, want := range []string{"level=INFO", "level=WARN", "send failed permanently", "message read"} {
		if !strings.Contains(log, want) {
			t.Errorf("the flow did not log %q: it is not representative", want)
		}
	}
	for _, who := range []string{mentorAddr, menteeAddr, cyAddr, eveAddr, stranger, "Ada Lovelace", "Bo Jensen", "Eve Hansen", "Cy Nielsen"} {
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(strings.ToLower(line), strings.ToLower(who)) {
				t.Errorf("%q appears in the log at info level:\n%s", who, line)
				break
			}
		}
	}
}
