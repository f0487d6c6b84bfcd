package devserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"
)

const waitLimit = 5 * time.Second

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.SMTPAddr, cfg.IMAPAddr = "127.0.0.1:0", "127.0.0.1:0"
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// send submits one plain-text message with go-mail, the daemon's SMTP client.
func send(t *testing.T, s *Server, auth gomail.SMTPAuthType, msgID, body string, to ...string) error {
	t.Helper()
	host, portStr, _ := net.SplitHostPort(s.SMTPAddr())
	port, _ := strconv.Atoi(portStr)
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTimeout(waitLimit)}
	if auth != gomail.SMTPAuthNoAuth {
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername("daemon@example.test"), gomail.WithPassword("any password"))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	m := gomail.NewMsg()
	if err := m.From("daemon@example.test"); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to...); err != nil {
		t.Fatal(err)
	}
	m.Subject("Session 1")
	m.SetMessageIDWithValue(msgID)
	m.SetBodyString(gomail.TypeTextPlain, body)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	return c.DialAndSendWithContext(ctx, m)
}

func dialIMAP(t *testing.T, s *Server, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.IMAPAddr(), opts)
	if err != nil {
		t.Fatalf("DialInsecure() = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, "whatever").Wait(); err != nil {
		t.Fatalf("Login(%q) = %v", user, err)
	}
	return c
}

// fetchInbox returns the INBOX's messages with envelope, flags and full body,
// fetched with Peek.
func fetchInbox(t *testing.T, c *imapclient.Client) []*imapclient.FetchMessageBuffer {
	t.Helper()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("Select(INBOX) = %v", err)
	}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Envelope: true, Flags: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("Fetch() = %v", err)
	}
	return msgs
}

// lockedBuffer is a log destination shared by server goroutines and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSendAndFetch(t *testing.T) {
	for _, auth := range []gomail.SMTPAuthType{gomail.SMTPAuthNoAuth, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin} {
		t.Run(string(auth), func(t *testing.T) {
			var logs lockedBuffer
			s := start(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			msgID := "checklist-1." + strings.ToLower(string(auth)) + "@mentord.test"
			body := "Secret words from a mentee."
			if err := send(t, s, auth, msgID, body, "mentee@example.test", "Mentor@Example.TEST"); err != nil {
				t.Fatalf("send() = %v", err)
			}
			for _, user := range []string{"mentee@example.test", "MENTOR@example.test"} {
				msgs := fetchInbox(t, dialIMAP(t, s, user, nil))
				if len(msgs) != 1 {
					t.Fatalf("%s: %d messages, want 1", user, len(msgs))
				}
				m := msgs[0]
				raw := string(m.FindBodySection(&imap.FetchItemBodySection{}))
				if m.Envelope.MessageID != msgID || !strings.Contains(raw, body) {
					t.Errorf("%s: Message-ID %q, body %q; want %q and %q", user, m.Envelope.MessageID, raw, msgID, body)
				}
				with := "with ESMTPA\r\n" // RFC 3848: authenticated
				if auth == gomail.SMTPAuthNoAuth {
					with = "with ESMTP\r\n"
				}
				if !strings.HasPrefix(raw, "Received: from ") || !strings.Contains(raw, with) ||
					!strings.Contains(raw, "for <"+strings.ToLower(user)+">") {
					t.Errorf("%s: message does not start with a Received header %q for it:\n%s", user, with, raw)
				}
				if slices.Contains(m.Flags, imap.FlagSeen) {
					t.Errorf("%s: flags %v after a Peek fetch, want no \\Seen", user, m.Flags)
				}
			}
			got, err := s.Mailbox("Mentee@example.test", "INBOX")
			if err != nil || len(got) != 1 || !bytes.Contains(got[0], []byte(body)) {
				t.Errorf("Mailbox() = %d messages, %v; want the one sent", len(got), err)
			}
			out := logs.String()
			if !strings.Contains(out, "dev mail server listening") || strings.Contains(out, "example.test") ||
				strings.Contains(out, "Secret") {
				t.Errorf("info log shows addresses or contents, or lacks the start line:\n%s", out)
			}
		})
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "[2001:db8::1]:0"} {
		for _, cfg := range []Config{
			{SMTPAddr: addr, IMAPAddr: "127.0.0.1:0"},
			{SMTPAddr: "127.0.0.1:0", IMAPAddr: addr},
		} {
			s, err := Start(cfg)
			if !errors.Is(err, ErrNotLoopback) {
				if s != nil {
					s.Close()
				}
				t.Errorf("Start(%+v) = %v, want ErrNotLoopback", cfg, err)
			}
		}
	}
	for _, addr := range []string{"127.0.0.2:2525", "[::1]:1143", "localhost:0"} {
		if _, err := loopbackAddr(addr); err != nil {
			t.Errorf("loopbackAddr(%q) = %v, want success", addr, err)
		}
	}
	s, err := Start(Config{SMTPAddr: "localhost:0", IMAPAddr: "localhost:0"})
	if err != nil {
		t.Fatalf("Start(localhost) = %v, want success", err)
	}
	s.Close()
}

func TestIdleSeesNewMail(t *testing.T) {
	s := start(t, Config{})
	exists := make(chan uint32, 16)
	c := dialIMAP(t, s, "mentor@example.test", &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("Select() = %v", err)
	}
	waitExists := func(want uint32) {
		t.Helper()
		for {
			select {
			case n := <-exists:
				if n == want {
					return
				}
			case <-time.After(waitLimit):
				t.Fatalf("no EXISTS %d announced during IDLE", want)
			}
		}
	}
	// Arrives between SELECT and IDLE: must be announced as IDLE begins.
	if err := send(t, s, gomail.SMTPAuthNoAuth, "one@mentord.test", "one", "mentor@example.test"); err != nil {
		t.Fatalf("send() = %v", err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("Idle() = %v", err)
	}
	waitExists(1)
	// Arrives during IDLE.
	if err := send(t, s, gomail.SMTPAuthPlain, "two@mentord.test", "two", "Mentor@example.test"); err != nil {
		t.Fatalf("send() = %v", err)
	}
	waitExists(2)
	if err := idle.Close(); err != nil {
		t.Fatalf("IdleCommand.Close() = %v", err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IdleCommand.Wait() = %v", err)
	}
}

func TestMove(t *testing.T) {
	s := start(t, Config{})
	const user = "mentee@example.test"
	for i := range 2 {
		msg := fmt.Sprintf("Message-ID: <reply-%d@example.test>\r\nSubject: Re: Session 1\r\n\r\nYes, Tuesday works.\r\n", i)
		if err := s.Deliver(user, []byte(msg)); err != nil {
			t.Fatalf("Deliver() = %v", err)
		}
	}
	c := dialIMAP(t, s, user, nil)
	caps := c.Caps()
	for _, want := range []imap.Cap{imap.CapIMAP4rev2, imap.CapMove, imap.CapUIDPlus, imap.CapIdle} {
		if _, ok := caps[want]; !ok {
			t.Errorf("capabilities %v lack %s", caps, want)
		}
	}
	if err := c.Create("Processed", nil).Wait(); err != nil {
		t.Fatalf("Create() = %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("Select() = %v", err)
	}
	data, err := c.Move(imap.UIDSetNum(1), "Processed").Wait()
	if err != nil {
		t.Fatalf("Move() = %v", err)
	}
	if data.DestUIDs.String() != "1" {
		t.Errorf("Move() COPYUID destination UIDs %v, want 1", data.DestUIDs)
	}
	inbox, err := s.Mailbox(user, "INBOX")
	if err != nil || len(inbox) != 1 || !bytes.Contains(inbox[0], []byte("reply-1@")) {
		t.Errorf("Mailbox(INBOX) = %q, %v; want reply-1 only", inbox, err)
	}
	done, err := s.Mailbox(user, "Processed")
	if err != nil || len(done) != 1 || !bytes.Contains(done[0], []byte("reply-0@")) {
		t.Errorf("Mailbox(Processed) = %q, %v; want reply-0 only", done, err)
	}
	if _, err := s.Mailbox(user, "Missing"); err == nil {
		t.Errorf("Mailbox(Missing) = nil error, want one")
	}
}

func TestCloseIsIdempotentAndFreesPorts(t *testing.T) {
	s, err := Start(Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	c, err := imapclient.DialInsecure(s.IMAPAddr(), nil) // an open connection
	if err != nil {
		t.Fatalf("DialInsecure() = %v", err)
	}
	defer c.Close()
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close() #%d = %v", i+1, err)
		}
	}
	select {
	case <-c.Closed():
	case <-time.After(waitLimit):
		t.Errorf("IMAP connection still open after Close()")
	}
	for _, addr := range []string{s.SMTPAddr(), s.IMAPAddr()} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("port %s still taken after Close(): %v", addr, err)
		}
		ln.Close()
	}
}

func TestOversizedMessageRefused(t *testing.T) {
	s := start(t, Config{MaxMessageBytes: 2048})
	err := send(t, s, gomail.SMTPAuthNoAuth, "big@mentord.test", strings.Repeat("long line of text ", 500), "mentee@example.test")
	var sendErr *gomail.SendError
	if !errors.As(err, &sendErr) || sendErr.ErrorCode() != 552 {
		t.Fatalf("send() = %v, want a 552 SendError", err)
	}
	if got, err := s.Mailbox("mentee@example.test", "INBOX"); err != nil || len(got) != 0 {
		t.Errorf("Mailbox() = %d messages, %v; want none", len(got), err)
	}
}

func TestInvalidAddressesRefused(t *testing.T) {
	s := start(t, Config{})
	c, err := smtp.Dial(s.SMTPAddr())
	if err != nil {
		t.Fatalf("smtp.Dial() = %v", err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatalf("Hello() = %v", err)
	}
	if err := c.Mail("a..b@example.test", nil); !isPermanent(err) {
		t.Errorf("Mail(a..b@example.test) = %v, want 5xx", err)
	}
	if err := c.Mail("", nil); err != nil { // null reverse-path
		t.Fatalf("Mail(<>) = %v", err)
	}
	for _, rcpt := range []string{"nobody", "x@b@example.test", "x@-bad.test", "x@a..test", "x@[999.1.1.1]", "x y@example.test"} {
		if err := c.Rcpt(rcpt, nil); !isPermanent(err) {
			t.Errorf("Rcpt(%q) = %v, want 5xx", rcpt, err)
		}
	}
	if err := c.Rcpt("ok@[127.0.0.1]", nil); err != nil {
		t.Errorf("Rcpt(ok@[127.0.0.1]) = %v, want success", err)
	}
}

func isPermanent(err error) bool {
	var smtpErr *smtp.SMTPError
	return errors.As(err, &smtpErr) && smtpErr.Code/100 == 5
}

// With a recipient delimiter, mail to a sub-address (a reply to
// mentoring+TOKEN@) lands in the base mailbox, as Postfix files it, and keeps
// the address it was sent to; without one, each address is its own mailbox.
func TestSubAddressesReachTheBaseMailbox(t *testing.T) {
	s := start(t, Config{RecipientDelimiter: "+"})
	if err := send(t, s, gomail.SMTPAuthNoAuth, "reply-1@mentord.test", "My plan.", "Mentoring+Tok3n@Example.TEST"); err != nil {
		t.Fatalf("send() = %v", err)
	}
	if err := s.Deliver("mentoring+other@example.test", []byte("Message-ID: <reply-2@mentord.test>\r\n\r\nMore.\r\n")); err != nil {
		t.Fatalf("Deliver() = %v", err)
	}
	inbox, err := s.Mailbox("mentoring@example.test", "INBOX")
	if err != nil || len(inbox) != 2 {
		t.Fatalf("the base mailbox holds %d messages (%v), want 2", len(inbox), err)
	}
	if !bytes.Contains(inbox[0], []byte("for <mentoring+tok3n@example.test>")) {
		t.Errorf("the Received header does not name the sub-address:\n%s", inbox[0])
	}
	if sub, _ := s.Mailbox("mentoring+tok3n@example.test", "INBOX"); len(sub) != 0 {
		t.Errorf("the sub-address has its own mailbox with %d messages", len(sub))
	}

	plain := start(t, Config{})
	if err := plain.Deliver("mentoring+other@example.test", []byte("Message-ID: <reply-3@mentord.test>\r\n\r\nHi.\r\n")); err != nil {
		t.Fatal(err)
	}
	if own, _ := plain.Mailbox("mentoring+other@example.test", "INBOX"); len(own) != 1 {
		t.Errorf("without a delimiter the sub-address's mailbox holds %d messages, want 1", len(own))
	}
}
