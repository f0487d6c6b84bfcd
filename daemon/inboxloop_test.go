package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/inbox"
)

// imapReading is a reading test with the programme mailbox on the dev server.
type imapReading struct {
	*reading
	dev *devserver.Server
	d   *Daemon
}

func newIMAPReading(t testing.TB) *imapReading {
	t.Helper()
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	host, port, _ := net.SplitHostPort(dev.IMAPAddr())
	r := newReading(t, fmt.Sprintf("imap: {host: %s, port: %s, tls: none, password_file: /dev/null}\n", host, port))
	d := &Daemon{db: r.db, log: r.log, clock: RealClock{}, health: health.New(RealClock{}.Now), reloaded: make(chan struct{}), kick: make(chan struct{}, 1)}
	d.cfg.Store(r.cfg)
	d.tpl.Store(r.tpl)
	return &imapReading{reading: r, dev: dev, d: d}
}

// drainOnce connects, selects the inbox and reads it as the inbox loop does.
func (ir *imapReading) drainOnce(c *imapclient.Client) error {
	ir.t.Helper()
	cfg := ir.cfg
	sel, err := c.Select(cfg.IMAP.Folders.Inbox, nil).Wait()
	if err != nil {
		return err
	}
	return ir.d.handleInbox(context.Background(), c, inbox.Mailbox{Name: cfg.IMAP.Folders.Inbox, UIDValidity: sel.UIDValidity, Messages: sel.NumMessages})
}

func (ir *imapReading) dial() *imapclient.Client {
	ir.t.Helper()
	cfg := connect.IMAPConfig(ir.cfg, nil)
	cfg.Password = "x"
	c, err := inbox.Dial(context.Background(), cfg)
	if err != nil {
		ir.t.Fatal(err)
	}
	ir.t.Cleanup(func() { c.Close() })
	return c
}

func (ir *imapReading) folder(name string) int {
	ir.t.Helper()
	msgs, err := ir.dev.Mailbox("mentoring@example.org", name)
	if err != nil {
		ir.t.Fatal(err)
	}
	return len(msgs)
}

// Replies delivered to the mailbox are read, logged, and only then moved:
// logged ones to Processed, a stranger's to Unrelated, a forged one to Quarantine.
func TestInboxReadsAndMovesAfterCommit(t *testing.T) {
	ir := newIMAPReading(t)
	deliver := func(raw []byte) {
		if err := ir.dev.Deliver("mentoring@example.org", raw); err != nil {
			t.Fatal(err)
		}
	}
	deliver(ir.replyMsg(menteeAddr, ir.token, "r1@mail.example.org", typedAnswers))
	deliver(ir.replyMsg("eve@evil.example", ir.token, "r2@mail.example.org", typedAnswers))
	deliver([]byte("From: someone@example.net\r\nTo: mentoring@example.org\r\nSubject: Hi\r\nMessage-ID: <r3@example.net>\r\n\r\nHello.\r\n"))
	c := ir.dial()
	if err := ir.drainOnce(c); err != nil {
		t.Fatal(err)
	}
	for folder, want := range map[string]int{"INBOX": 0, "Processed": 1, "Quarantine": 1, "Unrelated": 1} {
		if got := ir.folder(folder); got != want {
			t.Errorf("%s holds %d messages, want %d", folder, got, want)
		}
	}
	if n := ir.count("progress_entries"); n != 4 {
		t.Errorf("%d progress entries, want 4", n)
	}
	cur, _ := store.GetCursor(context.Background(), ir.db.R(), "INBOX")
	if cur.LastUID != 3 {
		t.Errorf("cursor = %+v", cur)
	}
}

// A crash after the commit, before the move, leaves the message in the inbox:
// the next connection reads it again, recognises it, changes nothing and moves it.
func TestCrashBeforeMoveChangesNothingTwice(t *testing.T) {
	ir := newIMAPReading(t)
	for i := 1; i <= 5; i++ {
		ir.dev.Deliver("mentoring@example.org", ir.replyMsg(menteeAddr, ir.token, "c"+strconv.Itoa(i)+"@mail.example.org",
			fmt.Sprintf("1. Answer number %d.", i)))
	}
	// The first connection "dies" after the batch was committed, before any move.
	c := ir.dial()
	sel, _ := c.Select("INBOX", nil).Wait()
	r := &ingest.Reader{DB: ir.db, Cfg: ir.cfg, Tpl: ir.tpl, Log: ir.log, Now: func() time.Time { return ir.now }}
	_, err := inbox.Drain(context.Background(), c, inbox.Mailbox{Name: "INBOX", UIDValidity: sel.UIDValidity}, inbox.DrainOptions{Batch: 3},
		func(ctx context.Context, ms []inbox.Message) ([]string, error) {
			items := make([]ingest.Item, len(ms))
			for i, m := range ms {
				items[i] = ingest.Item{Raw: m.Raw, Source: ingest.Source{Mailbox: "INBOX", UIDValidity: m.UIDValidity, UID: uint32(m.UID)}}
			}
			if _, err := r.IngestBatch(ctx, items); err != nil {
				return nil, err
			}
			c.Close() // killed after the first batch's commit: no move reaches the server
			return nil, errors.New("killed")
		})
	if err == nil {
		t.Fatal("the drain did not fail")
	}
	if ir.folder("INBOX") != 5 {
		t.Fatalf("messages moved before the crash")
	}
	// Restart: a new connection reads everything once more.
	if err := ir.drainOnce(ir.dial()); err != nil {
		t.Fatal(err)
	}
	if ir.folder("INBOX") != 0 || ir.folder("Processed") != 5 {
		t.Errorf("INBOX %d, Processed %d", ir.folder("INBOX"), ir.folder("Processed"))
	}
	var entries, current int
	ir.db.R().Get(&entries, `SELECT COUNT(*) FROM progress_entries`)
	ir.db.R().Get(&current, `SELECT COUNT(*) FROM inbound`)
	if entries != 5 || current != 5 {
		t.Errorf("%d progress entries and %d inbound rows, want 5 each", entries, current)
	}
	if got := ir.answers()[1]; got != "Answer number 5." {
		t.Errorf("answer 1 = %q, want the last reply's", got)
	}
}

// A new UIDVALIDITY (the mailbox was recreated) reads everything again and
// changes nothing for messages already read.
func TestUIDValidityChange(t *testing.T) {
	ir := newIMAPReading(t)
	raw := ir.replyMsg(menteeAddr, ir.token, "u1@mail.example.org", typedAnswers)
	ir.dev.Deliver("mentoring@example.org", raw)
	if err := ir.drainOnce(ir.dial()); err != nil {
		t.Fatal(err)
	}
	// Another server, the same message in a fresh mailbox: a new UIDVALIDITY.
	ctx := context.Background()
	ir.dev.Deliver("mentoring@example.org", raw)
	ir.dev.Deliver("mentoring@example.org", ir.replyMsg(menteeAddr, ir.token, "u2@mail.example.org", "3. Something new."))
	c := ir.dial()
	sel, _ := c.Select("INBOX", nil).Wait()
	err := ir.d.handleInbox(ctx, c, inbox.Mailbox{Name: "INBOX", UIDValidity: sel.UIDValidity + 7})
	if err != nil {
		t.Fatal(err)
	}
	if n := ir.count("progress_entries"); n != 5 {
		t.Errorf("%d progress entries, want 4 + 1", n)
	}
	if !strings.Contains(ir.answers()[3], "Something new") {
		t.Errorf("the new message was not read")
	}
}

// A message over imap.max_message_size is never read: it is reported and put aside.
func TestOversizeMessageSkipped(t *testing.T) {
	ir := newIMAPReading(t)
	ir.cfg.IMAP.MaxMessageSize = 64 << 10
	big := ir.replyMsg(menteeAddr, ir.token, "big@mail.example.org", typedAnswers+"\n\n"+strings.Repeat("x", 100<<10))
	ir.dev.Deliver("mentoring@example.org", big)
	if err := ir.drainOnce(ir.dial()); err != nil {
		t.Fatal(err)
	}
	var in store.Inbound
	if err := ir.db.R().Get(&in, `SELECT * FROM inbound`); err != nil {
		t.Fatal(err)
	}
	if in.Outcome != store.OutcomeQuarantined || !strings.HasPrefix(in.Reason, "oversize") || in.Raw != nil || in.MessageID != "big@mail.example.org" {
		t.Errorf("oversize message recorded as %+v", in)
	}
	if ir.count("progress_entries") != 0 || ir.folder("Quarantine") != 1 {
		t.Errorf("an oversize message was read or not put aside")
	}
}

// A batch that fails before its commit changes nothing.
func TestFailedBatchChangesNothing(t *testing.T) {
	r := newReading(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.reader.IngestBatch(ctx, []ingest.Item{
		{Raw: r.replyMsg(menteeAddr, r.token, "f1@mail.example.org", typedAnswers), Source: ingest.Source{Mailbox: "INBOX", UIDValidity: 1, UID: 1}},
		{Raw: r.replyMsg(menteeAddr, r.token, "f2@mail.example.org", typedAnswers), Source: ingest.Source{Mailbox: "INBOX", UIDValidity: 1, UID: 2}},
	})
	if err == nil {
		t.Fatal("IngestBatch with a cancelled context succeeded")
	}
	if r.count("inbound") != 0 || r.count("progress_entries") != 0 || r.count("mailbox_cursor") != 0 {
		t.Error("a failed batch left rows behind")
	}
}

func TestPurgeRawKeepsTheLog(t *testing.T) {
	r := newReading(t, "")
	r.ingest(r.replyMsg(menteeAddr, r.token, "d1@mail.example.org", typedAnswers))
	p, err := store.Purge(context.Background(), r.db, r.now.Add(25*time.Hour), 24*time.Hour, 365*24*time.Hour, false)
	if err != nil || p.RawMessages != 1 || p.Pairs != 0 {
		t.Fatalf("Purge = %+v, %v", p, err)
	}
	var raws int
	r.db.R().Get(&raws, `SELECT COUNT(*) FROM inbound WHERE raw IS NOT NULL`)
	if raws != 0 || r.count("progress_entries") != 4 {
		t.Errorf("%d raw messages kept, %d entries", raws, r.count("progress_entries"))
	}
}

// A year after a pair's programme ended, its whole log goes; the roster stays.
func TestPurgePairLog(t *testing.T) {
	r := newReading(t, "")
	r.ingest(r.replyMsg(menteeAddr, r.token, "p1@mail.example.org", typedAnswers))
	if _, err := r.roster.EndPair(context.Background(), r.pairID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	year := 365 * 24 * time.Hour
	if p, _ := store.Purge(ctx, r.db, r.now.Add(year-time.Hour), 90*24*time.Hour, year, false); p.Pairs != 0 {
		t.Errorf("purged %d pairs before a year had passed", p.Pairs)
	}
	dry, err := store.Purge(ctx, r.db, r.now.Add(year+time.Hour), 90*24*time.Hour, year, true)
	if err != nil || dry.Pairs != 1 || dry.Entries != 4 || r.count("progress_entries") != 4 {
		t.Fatalf("dry run = %+v, %v (%d entries left)", dry, err, r.count("progress_entries"))
	}
	if _, err := store.Purge(ctx, r.db, r.now.Add(year+time.Hour), 90*24*time.Hour, year, false); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"progress_entries", "replies", "action_items", "prompts", "inbound"} {
		if n := r.count(table); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
	if r.count("pairs") != 1 || r.count("sessions") != 12 || r.count("people") != 2 {
		t.Error("the roster went too")
	}
}
