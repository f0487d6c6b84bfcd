package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/store"
)

// rsvp is a calendar answer as a client sends it: METHOD:REPLY (or COUNTER)
// with the one replying ATTENDEE, for the event of an invite mentord sent.
func (r *reading) rsvp(t *testing.T, inviteTo, from, method, partstat string, seq int, stamp time.Time, extra string) []byte {
	t.Helper()
	var invite simMsg
	for _, m := range r.got {
		if m.Kind == "invite" && m.To == inviteTo {
			invite = m
			break
		}
	}
	_, ev := calendarOf(t, invite.Raw)
	uid := ev.Props.Get(ical.PropUID).Value
	start, _ := ev.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	ics := strings.ReplaceAll(fmt.Sprintf(`BEGIN:VCALENDAR
PRODID:-//Test Client//EN
VERSION:2.0
METHOD:%s
BEGIN:VEVENT
UID:%s
SEQUENCE:%d
DTSTAMP:%s
DTSTART:%s
DTEND:%s
ATTENDEE;PARTSTAT=%s;CN=Someone:mailto:%s
%sEND:VEVENT
END:VCALENDAR
`, method, uid, seq, stamp.UTC().Format("20060102T150405Z"), start.Format("20060102T150405Z"),
		start.Add(time.Hour).Format("20060102T150405Z"), partstat, strings.ToUpper(inviteTo), extra), "\n", "\r\n")
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: <%s>
To: mentoring@example.org
Subject: Accepted: Mentoring
Message-ID: <rsvp.%d.%s@client.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain; charset=UTF-8

%s
--b
Content-Type: text/calendar; charset=UTF-8; method=%s

%s
--b--
`, from, time.Now().UnixNano(), partstat, partstat, method, ics), "\n", "\r\n"))
}

func (r *reading) partstat(t *testing.T, email string) string {
	t.Helper()
	var p string
	if err := r.db.R().Get(&p, `SELECT a.partstat FROM session_attendees a JOIN people p ON p.id = a.person_id
		JOIN sessions s ON s.id = a.session_id WHERE p.email = ? AND s.number = 1`, email); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCalendarReplies(t *testing.T) {
	r := newReading(t, "")
	stamp := r.now
	if out := r.ingest(r.rsvp(t, menteeAddr, menteeAddr, "REPLY", "ACCEPTED", 0, stamp, "")); out.Outcome != store.OutcomeLogged {
		t.Fatalf("accept: %+v", out)
	}
	if got := r.partstat(t, menteeAddr); got != "ACCEPTED" {
		t.Errorf("mentee's PARTSTAT = %s", got)
	}
	// An older answer (earlier DTSTAMP, same SEQUENCE) is ignored.
	if out := r.ingest(r.rsvp(t, menteeAddr, menteeAddr, "REPLY", "DECLINED", 0, stamp.Add(-time.Hour), "")); out.Outcome != store.OutcomeIgnored {
		t.Errorf("stale answer: %+v", out)
	}
	// Someone else answering for the mentee is quarantined.
	if out := r.ingest(r.rsvp(t, menteeAddr, "eve@evil.example", "REPLY", "DECLINED", 0, stamp.Add(time.Hour), "")); out.Outcome != store.OutcomeQuarantined {
		t.Errorf("spoofed answer: %+v", out)
	}
	if got := r.partstat(t, menteeAddr); got != "ACCEPTED" {
		t.Errorf("mentee's PARTSTAT changed to %s", got)
	}
	var replies int
	r.db.R().Get(&replies, `SELECT COUNT(*) FROM calendar_replies`)
	if replies != 1 {
		t.Errorf("%d calendar replies recorded, want 1", replies)
	}
}

// The mentor declines: the mentee is told, and the session's checklist is held.
func TestMentorDeclines(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	addPair(t, s.roster, admin.PairInput{MentorName: "Ada", MentorEmail: mentorAddr, MenteeName: "Bo", MenteeEmail: menteeAddr,
		TZ: "Europe/Copenhagen", Start: "2027-01-12T14:00", Every: "monthly", Sessions: "12", Duration: "60m", Location: "Room 4.12"})
	s.step()
	r := &reading{sim: s, reader: &ingest.Reader{DB: s.db, Cfg: s.cfg, Tpl: s.tpl, Log: s.log, Now: func() time.Time { return s.now }}}
	out := r.ingest(r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, s.now, "COMMENT:Away at a conference\n"))
	if out.Outcome != store.OutcomeLogged {
		t.Fatalf("decline: %+v", out)
	}
	mark := len(s.got)
	s.runUntil(utc("2027-01-12T12:00Z"))
	var kinds []string
	for _, m := range s.got[mark:] {
		if m.To == menteeAddr && m.Kind != "invite" {
			kinds = append(kinds, m.Kind)
			if m.Kind == "declined" && !strings.Contains(strings.Join(strings.Fields(textOf(t, m.Raw)), " "), "Away at a conference") {
				t.Errorf("the notice lacks the comment:\n%s", textOf(t, m.Raw))
			}
		}
	}
	if strings.Join(kinds, ",") != "declined" {
		t.Errorf("to the mentee before session 1: %v, want the decline notice and no checklist", kinds)
	}
}

// A counter-proposal is stored and passed on, never applied (with
// programme.rescheduling: admin; with pair, see talk_test.go).
func TestCounterProposal(t *testing.T) {
	r := newReading(t, "programme: {name: Staff Mentoring, admin_email: admin@example.org, rescheduling: admin}\n")
	var before store.Session
	r.db.R().Get(&before, `SELECT * FROM sessions WHERE number = 1`)
	proposed := before.StartsAt.Add(48 * time.Hour)
	extra := "COMMENT:Could we do Thursday?\n"
	raw := r.rsvp(t, mentorAddr, mentorAddr, "COUNTER", "TENTATIVE", before.Sequence, r.now, extra)
	raw = []byte(strings.Replace(string(raw), "DTSTART:"+before.StartsAt.UTC().Format("20060102T150405Z"),
		"RECURRENCE-ID:"+before.StartsAt.UTC().Format("20060102T150405Z")+"\r\nDTSTART:"+proposed.UTC().Format("20060102T150405Z"), 1))
	raw = []byte(strings.Replace(string(raw), "DTEND:"+before.End().UTC().Format("20060102T150405Z"),
		"DTEND:"+proposed.Add(time.Hour).UTC().Format("20060102T150405Z"), 1))
	if out := r.ingest(raw); out.Outcome != store.OutcomeLogged {
		t.Fatalf("counter: %+v", out)
	}
	var after store.Session
	r.db.R().Get(&after, `SELECT * FROM sessions WHERE number = 1`)
	if !after.StartsAt.Equal(before.StartsAt) || after.Sequence != before.Sequence {
		t.Errorf("a counter-proposal moved the session")
	}
	var p store.Proposal
	if err := r.db.R().Get(&p, `SELECT * FROM proposals`); err != nil || !p.ProposedStart.Equal(proposed) {
		t.Errorf("proposal = %+v, %v", p, err)
	}
	var to []string
	r.db.R().Select(&to, `SELECT recipient FROM outbox WHERE kind = 'counter' ORDER BY recipient`)
	if strings.Join(to, ",") != "admin@example.org,"+menteeAddr {
		t.Errorf("counter-proposal told %v, want the admin and the mentee", to)
	}

	// The admin acts on proposals by moving or cancelling the session: the
	// time taken is accepted, the others declined.
	ctx := context.Background()
	s2, s3 := r.sessionID(2), r.sessionID(3)
	s2start := r.sessionStart(t, 2)
	propose := func(session int64, at time.Time) int64 {
		pp := store.Proposal{InboundID: p.InboundID, SessionID: session, PersonID: p.PersonID, ProposedStart: at,
			ProposedEnd: at.Add(time.Hour), ReceivedAt: r.now}
		if err := r.db.Tx(ctx, func(tx *sqlx.Tx) error { return store.InsertProposal(ctx, tx, &pp) }); err != nil {
			t.Fatal(err)
		}
		return pp.ID
	}
	taken, other, dropped := propose(s2, s2start.Add(24*time.Hour)), propose(s2, s2start.Add(48*time.Hour)), propose(s3, r.now.Add(60*24*time.Hour))
	if _, err := r.roster.MoveSession(ctx, s2, s2start.Add(24*time.Hour).In(mustZone("Europe/Copenhagen")).Format("2006-01-02T15:04")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.roster.CancelSession(ctx, s3); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{taken: "accepted", other: "declined", dropped: "declined"} {
		var got string
		r.db.R().Get(&got, `SELECT status FROM proposals WHERE id = ?`, id)
		if got != want {
			t.Errorf("proposal %d is %q, want %q", id, got, want)
		}
	}
}

func (r *reading) sessionStart(t *testing.T, number int) time.Time {
	t.Helper()
	var at time.Time
	if err := r.db.R().Get(&at, `SELECT starts_at FROM sessions WHERE number = ?`, number); err != nil {
		t.Fatal(err)
	}
	return at
}

// dsn is a delivery failure report as Postfix writes it (RFC 3464) for a
// message mentord sent, to its VERP return path.
func dsn(t *testing.T, m simMsg, envelope string, n int, status string) []byte {
	t.Helper()
	return []byte(strings.ReplaceAll(fmt.Sprintf(`Return-Path: <>
Delivered-To: %s
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
To: %s
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <dsn%d@mail.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org

Final-Recipient: rfc822; %s
Action: failed
Status: %s
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

From: Staff Mentoring <mentoring@example.org>
To: %s
Subject: compose.Plan your mentoring session
Message-ID: %s

--B--
`, envelope, envelope, n, m.To, status, m.To, m.MessageID), "\n", "\r\n"))
}

func TestBouncesSuspendAnAddress(t *testing.T) {
	r := newReading(t, "programme: {name: Staff Mentoring, admin_email: admin@example.org}\n")
	// Three messages to the mentee bounce, each reported once (a message
	// counts once however often it is reported: TestForgedBouncesSuspendNobody).
	sent := r.sentTo(t, menteeAddr)
	for i := 1; i <= 3; i++ {
		out := r.ingest(dsn(t, sent[i-1].Msg, sent[i-1].Envelope, i, "5.1.1"))
		if out.Kind != "bounce" || out.Outcome != store.OutcomeLogged {
			t.Fatalf("bounce %d: %+v", i, out)
		}
		var suspended int
		r.db.R().Get(&suspended, `SELECT COUNT(*) FROM people WHERE suspended_at IS NOT NULL`)
		if want := map[bool]int{true: 1, false: 0}[i == 3]; suspended != want {
			t.Errorf("after %d bounces, %d people suspended", i, suspended)
		}
	}
	var notices int
	r.db.R().Get(&notices, `SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND recipient = 'admin@example.org'`)
	if notices != 1 {
		t.Errorf("%d notices to the admin, want 1", notices)
	}
	// Nothing more goes to the suspended address; a bounce changes no progress.
	mark := len(r.got)
	r.runUntil(utc("2027-03-20T00:00Z"))
	for _, m := range r.got[mark:] {
		if m.To == menteeAddr {
			t.Errorf("%s sent to a suspended address", m.Kind)
		}
	}
	if r.count("progress_entries") != 0 {
		t.Error("a bounce was logged as progress")
	}
}
