package sender

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mentord/mentord/mail/smtptest"
)

func startSink(t *testing.T) *smtptest.Sink { return smtptest.Start(t) }

func sinkConfig(s *smtptest.Sink) Config {
	return Config{Host: "127.0.0.1", Port: s.Port(), Security: TLSNone, Auth: AuthNone, Timeout: 5 * time.Second}
}

const testMsg = "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n"

func TestSendBatchOnOneConnection(t *testing.T) {
	s := startSink(t)
	ctx := context.Background()
	c, err := New(sinkConfig(s), nil).Dial(ctx)
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
	if got := s.Messages(); len(got) != 3 || string(got[2].Data) != testMsg+"2\r\n" {
		t.Errorf("sink got %d messages: %q", len(got), got)
	}
}

func TestErrorsAreSorted(t *testing.T) {
	s := startSink(t)
	s.Fail("gone@example.org", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	s.Fail("busy@example.org", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
	ctx := context.Background()
	c, err := New(sinkConfig(s), nil).Dial(ctx)
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
	s.FailData(&smtp.SMTPError{Code: 554, Message: "rejected content"})
	if err := c.Send(ctx, Envelope{From: "x@example.org", To: []string{"b@example.org"}}, []byte(testMsg)); IsTemporary(err) || err == nil {
		t.Errorf("554 at end of DATA: err = %v, want permanent", err)
	}
}

func TestDroppedConnectionIsTemporary(t *testing.T) {
	s := startSink(t)
	s.DropNext(1)
	ctx := context.Background()
	c, err := New(sinkConfig(s), nil).Dial(ctx)
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
	cfg = sinkConfig(s)
	cfg.Security = TLSStartTLS
	if _, err := New(cfg, nil).Dial(context.Background()); err == nil {
		t.Error("Dial with starttls to a server without STARTTLS succeeded")
	}
	if len(s.Messages()) != 0 {
		t.Error("a message went through")
	}
}

func TestSendStopsWithContext(t *testing.T) {
	s := startSink(t)
	c, err := New(sinkConfig(s), nil).Dial(context.Background())
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
