package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestStackContract checks, with the standard library's SMTP client and the
// harness's IMAP client (no mentord code), the behaviour of the stack that other
// tests build on: nothing leaves the machine, submission needs STARTTLS, and
// bounce@ yields a real RFC 3464 DSN.
func TestStackContract(t *testing.T) {
	daemon := stack.User("daemon")

	t.Run("delivers to a user's INBOX", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		mentor, msgID := stack.User("mentor"), newMessageID()
		c := dialSMTP(t, stack.SMTPPort, true)
		if err := sendSMTP(c, daemon, mentor, testMessage(daemon, mentor, msgID, "e2e: plain SMTP")); err != nil {
			t.Fatalf("send to %s = %v, want nil", mentor, err)
		}
		if _, err := stack.WaitForMessage(ctx, mentor, msgID); err != nil {
			t.Fatal(err)
		}
	})

	for _, tc := range []struct {
		name, rcpt, want string
	}{
		{"unknown user", "nobody@" + stack.Domain, "User unknown"},
		{"other domain", "someone@example.org", "outbound mail disabled"},
	} {
		t.Run("rejects "+tc.name+" at RCPT", func(t *testing.T) {
			c := dialSMTP(t, stack.SMTPPort, true)
			if err := c.Mail(daemon); err != nil {
				t.Fatalf("MAIL FROM = %v, want nil", err)
			}
			err := c.Rcpt(tc.rcpt)
			var reply *textproto.Error
			if !errors.As(err, &reply) || reply.Code != 550 || !strings.Contains(reply.Msg, tc.want) {
				t.Errorf("RCPT TO:<%s> = %v, want 550 ... %s", tc.rcpt, err, tc.want)
			}
		})
	}

	t.Run("submission requires STARTTLS", func(t *testing.T) {
		c := dialSMTP(t, stack.SubmissionPort, false)
		err := c.Mail(daemon)
		var reply *textproto.Error
		if !errors.As(err, &reply) || reply.Code != 530 {
			t.Errorf("MAIL FROM without STARTTLS = %v, want 530", err)
		}
	})

	t.Run("bounce address yields a DSN", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		msgID := newMessageID()
		c := dialSMTP(t, stack.SMTPPort, true)
		if err := sendSMTP(c, daemon, stack.Bounce, testMessage(daemon, stack.Bounce, msgID, "e2e: to the bounce address")); err != nil {
			t.Fatalf("send to %s = %v, want accepted (Dovecot, not Postfix, rejects it)", stack.Bounce, err)
		}

		ic, err := stack.DialIMAP(ctx, daemon)
		if err != nil {
			t.Fatal(err)
		}
		defer ic.Close()
		// The DSN quotes the original headers (text/rfc822-headers), Message-ID included.
		dsn, err := Await(ctx, ic, "INBOX", &imap.SearchCriteria{
			Header: []imap.SearchCriteriaHeaderField{{Key: "Content-Type", Value: "report-type=delivery-status"}},
			Text:   []string{"<" + msgID + ">"},
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, stack.PostfixTrace(msgID))
		}
		m, err := mail.ReadMessage(bytes.NewReader(dsn.Raw))
		if err != nil {
			t.Fatalf("parse the DSN: %v", err)
		}
		if got := m.Header.Get("Auto-Submitted"); got != "auto-replied" {
			t.Errorf("DSN Auto-Submitted = %q, want auto-replied", got)
		}
		for _, want := range []string{"Action: failed", "Status: 5.1.1", "Final-Recipient: rfc822; " + stack.Bounce} {
			if !bytes.Contains(dsn.Raw, []byte(want)) {
				t.Errorf("DSN lacks %q:\n%s", want, dsn.Raw)
			}
		}
	})
}

// dialSMTP opens an SMTP session with the standard library's client, after
// STARTTLS (verified against the stack's certificate) when startTLS is set.
func dialSMTP(t *testing.T, port int, startTLS bool) *smtp.Client {
	t.Helper()
	addr := net.JoinHostPort(stack.Host, strconv.Itoa(port))
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, stack.Host)
	if err != nil {
		_ = conn.Close()
		t.Fatalf("SMTP greeting from %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("e2e.mentord.test"); err != nil {
		t.Fatalf("EHLO to %s: %v", addr, err)
	}
	if startTLS {
		if err := c.StartTLS(stack.TLSConfig()); err != nil {
			t.Fatalf("STARTTLS with %s: %v", addr, err)
		}
	}
	return c
}

func sendSMTP(c *smtp.Client, from, to string, msg []byte) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
