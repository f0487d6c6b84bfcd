package sender

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// sink is a go-smtp server that records what it receives and fails on demand.
type sink struct {
	mu       sync.Mutex
	got      [][]byte
	rcptErr  map[string]*smtp.SMTPError // by recipient
	dataErr  *smtp.SMTPError
	dropData bool // close the connection in the middle of DATA
	srv      *smtp.Server
	addr     *net.TCPAddr
}

func startSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{rcptErr: map[string]*smtp.SMTPError{}}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &sinkSession{s: s, conn: c}, nil
}

func (s *sink) messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

type sinkSession struct {
	s    *sink
	conn *smtp.Conn
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if e := ss.s.rcptErr[to]; e != nil {
		return e
	}
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	ss.s.mu.Lock()
	drop, derr := ss.s.dropData, ss.s.dataErr
	ss.s.mu.Unlock()
	if drop {
		ss.conn.Conn().Close()
		return errors.New("dropped")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, b)
	ss.s.mu.Unlock()
	return nil
}
func (ss *sinkSession) Reset()        {}
func (ss *sinkSession) Logout() error { return nil }

func (s *sink) config() Config {
	return Config{Host: "127.0.0.1", Port: s.addr.Port, Security: TLSNone, Auth: AuthNone, Timeout: 5 * time.Second}
}

const testMsg = "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n"

func TestSendBatchOnOneConnection(t *testing.T) {
	s := startSink(t)
	ctx := context.Background()
	c, err := New(s.config(), nil).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		msg := []byte(testMsg + strconv.Itoa(i) + "\r\n")
		if err := c.Send(ctx, Envelope{From: "bounces@example.org", To: []string{"b@example.org"}}, msg); err != nil {
			t.Fatalf("Send %d = %v", i, err)
		}
	}
	if got := s.messages(); len(got) != 3 || string(got[2]) != testMsg+"2\r\n" {
		t.Errorf("sink got %d messages: %q", len(got), got)
	}
}

func TestErrorsAreSorted(t *testing.T) {
	s := startSink(t)
	s.rcptErr["gone@example.org"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	s.rcptErr["busy@example.org"] = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	ctx := context.Background()
	c, err := New(s.config(), nil).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	err = c.Send(ctx, Envelope{From: "x@example.org", To: []string{"gone@example.org"}}, []byte(testMsg))
	var se *Error
	if !errors.As(err, &se) || se.Code != 550 || IsTemporary(err) {
		t.Errorf("550 at RCPT: err = %v (code %d), temporary %v; want permanent", err, se.Code, IsTemporary(err))
	}
	err = c.Send(ctx, Envelope{From: "x@example.org", To: []string{"busy@example.org"}}, []byte(testMsg))
	if !IsTemporary(err) {
		t.Errorf("451 at RCPT: err = %v, want temporary", err)
	}
	// The connection still carries the next message after the failures.
	if err := c.Send(ctx, Envelope{From: "x@example.org", To: []string{"b@example.org"}}, []byte(testMsg)); err != nil {
		t.Errorf("Send after failures = %v", err)
	}
	s.mu.Lock()
	s.dataErr = &smtp.SMTPError{Code: 554, Message: "rejected content"}
	s.mu.Unlock()
	if err := c.Send(ctx, Envelope{From: "x@example.org", To: []string{"b@example.org"}}, []byte(testMsg)); IsTemporary(err) || err == nil {
		t.Errorf("554 at end of DATA: err = %v, want permanent", err)
	}
}

func TestDroppedConnectionIsTemporary(t *testing.T) {
	s := startSink(t)
	s.dropData = true
	ctx := context.Background()
	c, err := New(s.config(), nil).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Send(ctx, Envelope{From: "x@example.org", To: []string{"b@example.org"}}, []byte(testMsg))
	if err == nil || !IsTemporary(err) {
		t.Errorf("dropped in DATA: err = %v, want temporary", err)
	}
}

func TestDialFailures(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := Config{Host: "127.0.0.1", Port: port, Security: TLSNone, Timeout: time.Second}
	if _, err := New(cfg, nil).Dial(context.Background()); err == nil || !IsTemporary(err) {
		t.Errorf("Dial to a closed port = %v, want a temporary error", err)
	}
	// STARTTLS is required: a server without it is refused, never used in plain text.
	s := startSink(t)
	cfg = s.config()
	cfg.Security = TLSStartTLS
	if _, err := New(cfg, nil).Dial(context.Background()); err == nil {
		t.Error("Dial with starttls to a server without STARTTLS succeeded")
	}
	if len(s.messages()) != 0 {
		t.Error("a message went through")
	}
}

func TestSendStopsWithContext(t *testing.T) {
	s := startSink(t)
	c, err := New(s.config(), nil).Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Send(ctx, Envelope{From: "x@example.org", To: []string{"b@example.org"}}, []byte(testMsg)); err == nil || !IsTemporary(err) {
		t.Errorf("Send with a cancelled context = %v, want a temporary error", err)
	}
}
