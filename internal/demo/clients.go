package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/quotedprintable"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/sender"
	"github.com/mentord/mentord/templates"
)

// The demo's simulated people. Each reads their dev-server mailbox over IMAP
// (IDLE) and reacts as a person would, a little later and in waking hours:
//   - both accept every invitation with an iTIP REPLY as Google Calendar
//     sends it, to the ORGANIZER; the mentor declines one session;
//   - the mentee answers checklists and reflections by mail to the Reply-To,
//     from Gmail, Outlook, Apple Mail and Thunderbird in turn, with numbered
//     answers (inline under the quoted questions from Apple Mail), promises
//     that the next checklist quotes and later answers say were kept;
//   - the mentee lets one checklist lie until its reminder, and ignores
//     reminders of what was answered.

// demoPerson is someone in the demo.
type demoPerson struct {
	Name, First, Email, Role string
	Loc                      *time.Location
}

// demoCast is the pair and what they will do.
type demoCast struct {
	mentee, mentor, admin *demoPerson
	sessions              int
	skip, decline         int // the session whose checklist the mentee lets lie, the one the mentor declines
	move                  int // the session the mentor asks, in words, to move (talk.go)
}

func newDemoCast(n int) demoCast {
	c := demoCast{sessions: n, skip: 3, decline: n / 2,
		mentee: &demoPerson{Name: "Bo Jensen", First: "Bo", Email: "bo@example.org", Role: "mentee", Loc: demoZone("Europe/Copenhagen")},
		mentor: &demoPerson{Name: "Ada Lovelace", First: "Ada", Email: "ada@example.com", Role: "mentor", Loc: demoZone("America/New_York")},
		admin:  &demoPerson{Name: "Programme admin", First: "the admin", Email: demoAdmin, Role: "admin", Loc: demoZone("Europe/Copenhagen")},
		move:   n}
	if n < 6 {
		c.skip, c.decline = 2, 3
	}
	return c
}

func (c demoCast) byEmail(addr string) *demoPerson {
	if strings.EqualFold(addr, c.mentor.Email) {
		return c.mentor
	}
	if strings.EqualFold(addr, c.admin.Email) {
		return c.admin
	}
	return c.mentee
}

// demoClient is one person's mail client.
type demoClient struct {
	p    *demoPerson
	d    *demo
	smtp *sender.Sender
	keys map[string]string // question text -> key
	wg   sync.WaitGroup
	up   chan struct{} // closed once the mailbox was first read
	once sync.Once
	last imap.UID // the last message read (by the IMAP goroutine only)

	mu       sync.Mutex
	rng      *rand.Rand
	pending  int             // answers planned, not sent yet
	answered map[string]bool // "checklist 4": answered or about to be
}

func (d *demo) startClients(ctx context.Context) []*demoClient {
	keys := map[string]string{}
	if tpl, err := templates.Load(""); err == nil {
		for _, purpose := range []string{"checklist", "reflection"} {
			for _, kind := range templates.SessionKinds {
				for _, q := range tpl.Questions("en", purpose, kind, true) {
					keys[q.Text] = q.Key
				}
			}
		}
	}
	s := d.cfg.SMTP.Server
	smtp := sender.New(sender.Config{Host: s.Host, Port: s.Port, Security: sender.TLSNone, Auth: sender.AuthNone,
		Timeout: 10 * time.Second}, slog.New(slog.DiscardHandler))
	var clients []*demoClient
	for i, p := range []*demoPerson{d.cast.mentee, d.cast.mentor, d.cast.admin} {
		c := &demoClient{p: p, d: d, smtp: smtp, keys: keys, rng: rand.New(rand.NewPCG(7, uint64(i))), answered: map[string]bool{},
			up: make(chan struct{})}
		cfg := connect.IMAPConfig(d.cfg, nil)
		cfg.Username, cfg.Password = p.Email, "any"
		c.wg.Go(func() {
			_ = inbox.Watch(ctx, cfg, inbox.WatchOptions{PollInterval: time.Second, MinBackoff: 50 * time.Millisecond}, c.handle)
		})
		clients = append(clients, c)
	}
	return clients
}

func (c *demoClient) busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending > 0
}

// handle reads what is new in the mailbox, and leaves it there.
func (c *demoClient) handle(ctx context.Context, cl *imapclient.Client, mb inbox.Mailbox) error {
	defer c.once.Do(func() { close(c.up) })
	_, err := inbox.Drain(ctx, cl, mb, inbox.DrainOptions{After: c.last}, func(ctx context.Context, ms []inbox.Message) ([]string, error) {
		for _, m := range ms {
			if m.UID > c.last { // a search from UID N+1 always finds the last message
				c.last = m.UID
				c.read(ctx, m.Raw)
			}
		}
		return nil, nil
	})
	return err
}

// read reacts to one message: invitations in the calendar, prompts by mail.
func (c *demoClient) read(ctx context.Context, raw []byte) {
	m := parseDemoMail(raw)
	sent, ok := c.d.tl.waitSent(ctx, m.id)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sent.Kind == "talk" || sent.Kind == "notice" { // the conversation, and the admin's notices (talk.go)
		c.d.tl.deliveredWhat(sent, m.date, demoTalkWhat(sent, m.subject), c.talk(ctx, m, sent))
		return
	}
	n, detail, note := sent.Session.Number, "", ""
	defer func() { c.d.tl.delivered(sent, m.date, detail, note) }()
	purpose := sent.Kind
	if sent.Kind == "nudge" { // "nudge:checklist:12:2"
		purpose, _, _ = strings.Cut(strings.TrimPrefix(sent.Key, "nudge:"), ":")
	}
	text := strings.Join(strings.Fields(m.text), " ")
	switch mentee := c.d.cast.mentee.First; {
	case sent.Kind == "brief" && strings.Contains(text, "wants to discuss, and the support they ask for:"):
		detail = ", with " + mentee + "'s topics and the support asked for as the agenda"
	case sent.Kind == "brief" && strings.Contains(text, "you will both be sent a draft agreement"):
		detail = ", saying the draft agreement follows the meeting"
	case sent.Kind == "brief" && strings.Contains(text, "No plan from"):
		detail = ", but no plan from " + mentee + " yet"
	case sent.Kind == "brief":
		detail = ", without " + mentee + "'s plan, which " + mentee + " keeps private"
	case sent.Kind == "match":
		note = c.matchCheck(ctx, m)
	case sent.Kind == "agreement":
		c.later(ctx, func() { c.answer(ctx, m, "I agree.", "confirms the agreement (Apple Mail)") })
		note = c.p.First + " will confirm it"
	case sent.Kind == "invite" && c.p.Role == "mentor" && n == c.d.cast.move:
		note = c.p.First + " is away that day and will propose another time"
		c.later(ctx, func() { c.proposeMove(ctx, m, sent) })
	case sent.Kind == "invite" || sent.Kind == "update":
		if sent.Kind == "update" && c.p.Role == "mentee" {
			c.d.tl.moved(sent.Session.Number, demoICSFields(m.ics)["DTSTART"])
		}
		c.later(ctx, func() { c.rsvp(ctx, m, sent) })
	case c.p.Role != "mentee" || purpose != "checklist" && purpose != "reflection" || c.answered[purpose+" "+strconv.Itoa(n)]:
		// nothing to do, or answered already: the reminder says to ignore it then
	case sent.Kind == "checklist" && n == c.d.cast.skip:
		note = c.p.First + " is swamped this week and lets it lie"
	default:
		c.answered[purpose+" "+strconv.Itoa(n)] = true
		if strings.Contains(text, "Do I want my mentor to read") {
			note = fmt.Sprintf("it asks whether %s may read %s's topics, the support asked for and check-ins; %[2]s will say yes", c.d.cast.mentor.First, c.p.First)
		}
		if promised := demoListAfter(m.text, "Last time you promised to:"); len(promised) > 0 {
			note = fmt.Sprintf("it quotes %s open promise%s: %q", map[bool]string{true: "the", false: fmt.Sprint(len(promised))}[len(promised) == 1],
				map[bool]string{true: "", false: "s"}[len(promised) == 1], demoShorten(promised[0], 40))
		}
		c.later(ctx, func() { c.reply(ctx, m, sent, purpose) })
	}
}

// later runs fn when the person gets round to it: within a few hours, in
// waking hours. The caller holds mu.
func (c *demoClient) later(ctx context.Context, fn func()) {
	now := c.d.clock.Now().In(c.p.Loc)
	at := now.Add(20*time.Minute + time.Duration(c.rng.Int64N(int64(3*time.Hour))))
	if h := at.Hour(); h < 8 || h >= 21 {
		at = time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, c.p.Loc).Add(time.Duration(c.rng.Int64N(int64(2 * time.Hour))))
		if now.Hour() >= 8 {
			at = at.AddDate(0, 0, 1)
		}
	}
	c.pending++
	c.wg.Go(func() {
		if c.d.clock.sleep(ctx, at.Sub(now)) {
			fn()
		}
		c.mu.Lock()
		c.pending--
		c.mu.Unlock()
	})
}

// send submits a message to mentord through the dev server's SMTP, to the
// address it was written to (a reply goes to the Reply-To with its token).
func (c *demoClient) send(ctx context.Context, to, id string, a demoAuthored, raw string) {
	a.From, a.At = c.p, c.d.clock.Now()
	c.d.tl.wrote(id, a, nil)
	conn, err := c.smtp.Dial(ctx)
	if err == nil {
		err = conn.Send(ctx, sender.Envelope{From: c.p.Email, To: []string{to}}, []byte(demoCRLF(raw)))
		conn.Close()
	}
	if err != nil && ctx.Err() == nil {
		c.d.tl.wrote(id, a, fmt.Errorf("%s's mail client: %w", c.p.First, err))
	}
}

// rsvp answers an invitation as Google Calendar does: METHOD:REPLY with the
// person's ATTENDEE and the invitation's UID and SEQUENCE, to the ORGANIZER.
func (c *demoClient) rsvp(ctx context.Context, m demoMail, sent demoSent) {
	partstat, verb, comment := "ACCEPTED", "Accepted", ""
	if c.p.Role == "mentor" && sent.Session.Number == c.d.cast.decline {
		partstat, verb, comment = "DECLINED", "Declined", "COMMENT:Away at a conference that week, sorry.\n"
	}
	ev, now, id := demoICSFields(m.ics), c.d.clock.Now(), c.msgID("google.com")
	at := strings.LastIndex(strings.ToLower(ev["ORGANIZER"]), "mailto:")
	if at < 0 {
		c.d.tl.wrote(id, demoAuthored{From: c.p, At: now}, errors.New("an invitation without an ORGANIZER"))
		return
	}
	organizer := ev["ORGANIZER"][at+len("mailto:"):]
	ics := demoFold(demoCRLF(fmt.Sprintf(`BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:REPLY
BEGIN:VEVENT
%s
%s
DTSTAMP:%s
%s
%s
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=%s;CN=%s;X-NUM-GUESTS=0:mailto:%s
%s%s
%s
STATUS:CONFIRMED
END:VEVENT
END:VCALENDAR
`, ev["DTSTART"], ev["DTEND"], now.UTC().Format("20060102T150405Z"), ev["ORGANIZER"], ev["UID"], partstat, c.p.Name, c.p.Email,
		comment, ev["SEQUENCE"], ev["SUMMARY"])))
	raw := fmt.Sprintf(`From: %s <%s>
To: %s
Subject: %s: %s @ %s (%s)
Date: %s
Message-ID: <%s>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="UTF-8"

%s has %s this invitation.

--alt
Content-Type: text/calendar; charset="UTF-8"; method=REPLY

%s
--alt--

--mixed
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

%s
--mixed--
`, c.p.Name, c.p.Email, organizer, verb, strings.TrimPrefix(ev["SUMMARY"], "SUMMARY:"),
		sent.Session.StartsAt.In(c.p.Loc).Format("Mon 2 Jan 2006 3:04pm (MST)"), c.p.Email, now.In(c.p.Loc).Format(time.RFC1123Z),
		id, c.p.Name, strings.ToLower(verb), ics, demoWrap76(base64.StdEncoding.EncodeToString([]byte(ics))))
	label := fmt.Sprintf("%s session %d (Google Calendar)", strings.ToLower(verb), sent.Session.Number)
	c.send(ctx, organizer, id, demoAuthored{Label: label, Session: sent.Session.Number, Decline: partstat == "DECLINED"}, raw)
}

func (c *demoClient) msgID(domain string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%016x@%s", c.rng.Uint64(), domain)
}

// reply answers a checklist or reflection from the mail programs in turn:
// the session's checklist, then its reflection, shifted every round. The
// program follows from what is answered, not from the order the answers
// happen to be written in, so a loaded machine tells the same story.
func (c *demoClient) reply(ctx context.Context, m demoMail, sent demoSent, purpose string) {
	turn := 2 * (sent.Session.Number - 1)
	if purpose == "reflection" {
		turn++
	}
	prog := demoPrograms[(turn+turn/len(demoPrograms))%len(demoPrograms)]
	var as []demoAnswer
	promised := len(demoListAfter(m.text, "Last time you promised to:"))
	for _, q := range demoQuestionLine.FindAllStringSubmatch(m.text, -1) {
		key := c.keys[q[2]]
		if key == "promises" && sent.Session.Kind == "final" {
			key = "promises-final" // the programme ends: a promise beyond it
		}
		if a := demoAnswerFor(key, sent.Session.Number, promised); a != "" {
			n, _ := strconv.Atoi(q[1])
			as = append(as, demoAnswer{n, q[0], a})
		}
	}
	id, attribution := c.msgID(prog.domain), prog.attribution(m, c.p)
	body := "Hi,\n\n" + demoNumbered(as) + prog.closing + c.p.First + "\n\n" + attribution + "\n" + demoQuote(m.text) + "\n"
	switch prog.style {
	case "unquoted":
		body = "Hi,\n\n" + demoNumbered(as) + prog.closing + c.p.First + "\n\n" + attribution + "\n" + m.text
	case "inline":
		body = demoInline(m.text, as, attribution)
	case "bottom":
		body = attribution + "\n" + demoQuote(m.text) + "\n\n" + demoNumbered(as) + "-- \n" + c.p.Name + "\nDepartment of Chemistry\n"
	}
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	io.WriteString(w, demoCRLF(body))
	w.Close()
	raw := fmt.Sprintf("From: %s <%s>\nTo: %s\nSubject: %s%s\nDate: %s\nMessage-ID: <%s>\nIn-Reply-To: <%s>\nReferences: <%s>\n%s"+
		"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8%s\nContent-Transfer-Encoding: quoted-printable\n\n%s",
		c.p.Name, c.p.Email, m.replyTo, prog.re, m.subject, c.d.clock.Now().In(c.p.Loc).Format(time.RFC1123Z), id, m.id, m.id,
		prog.headers, prog.params, qp.String())
	to := map[string]string{"checklist": "checklist for", "reflection": "reflection on", "nudge": "reminder for"}[sent.Kind]
	label := fmt.Sprintf("reply from %s to the %s session %d", prog.name, to, sent.Session.Number)
	c.send(ctx, m.replyTo, id, demoAuthored{Label: label, Session: sent.Session.Number}, raw)
}

// demoQuestionLine finds the questions in a prompt: "4. What topics or issues do I want to discuss at the next session?"
var demoQuestionLine = regexp.MustCompile(`(?m)^(\d{1,2})\. (.+\?.*)$`)

type demoAnswer struct {
	n              int
	question, text string // the question's line as sent, the answer
}

// demoProgram is how one mail program writes a reply.
type demoProgram struct {
	name, domain, re, headers, params, closing, style string
	attribution                                       func(m demoMail, p *demoPerson) string
}

var demoPrograms = []demoProgram{
	{name: "Gmail", domain: "mail.gmail.com", re: "Re: ", closing: "Best,\n",
		attribution: func(m demoMail, p *demoPerson) string {
			return m.date.In(p.Loc).Format("On Mon, 2 Jan 2006 at 15:04, ") + m.from + " wrote:\n"
		}},
	{name: "Outlook", domain: "AM8PR10MB4721.EURPRD10.PROD.OUTLOOK.COM", re: "RE: ", closing: "Kind regards,\n", style: "unquoted",
		headers: "Content-Language: en-GB\nX-MS-Has-Attach:\n",
		attribution: func(m demoMail, p *demoPerson) string {
			return "________________________________\nFrom: " + m.from + "\nSent: " + m.date.In(p.Loc).Format("Monday, January 2, 2006 3:04 PM") +
				"\nTo: " + p.Name + " <" + p.Email + ">\nSubject: " + m.subject + "\n"
		}},
	{name: "Apple Mail", domain: "example.org", re: "Re: ", style: "inline", headers: "X-Mailer: Apple Mail (2.3774.600.62)\n",
		attribution: func(m demoMail, p *demoPerson) string {
			return m.date.In(p.Loc).Format("On 2 Jan 2006, at 15:04, ") + m.from + " wrote:\n"
		}},
	{name: "Thunderbird", domain: "example.org", re: "Re: ", style: "bottom", params: "; format=flowed",
		headers: "User-Agent: Mozilla Thunderbird\nContent-Language: en-US\n",
		attribution: func(m demoMail, p *demoPerson) string {
			return m.date.In(p.Loc).Format("On 02/01/2006 15:04, ") + m.fromName + " wrote:"
		}},
}

func demoNumbered(as []demoAnswer) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%d. %s\n\n", a.n, strings.ReplaceAll(a.text, "\n", "\n   "))
	}
	return b.String()
}

func demoQuote(text string) string {
	return strings.ReplaceAll("> "+strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n> "), "> \n", ">\n")
}

// demoInline quotes the prompt and types each answer under its question.
func demoInline(text string, as []demoAnswer, attribution string) string {
	var b strings.Builder
	b.WriteString("Hi! My answers are below.\n\n" + attribution + "\n")
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		b.WriteString(strings.TrimRight("> "+line, " ") + "\n")
		for _, a := range as {
			if line == a.question {
				b.WriteString("\n" + a.text + "\n\n")
			}
		}
	}
	return b.String()
}
