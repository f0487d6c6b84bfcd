package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/sender"
)

// TestSubmitThroughPostfixReadThroughDovecot loads a mentord configuration that
// points at the stack (submission with STARTTLS required and AUTH PLAIN, IMAP
// with STARTTLS, both verifying the stack's self-signed certificate through
// ca_file, passwords from password files), sends a message from the programme
// mailbox to itself through Postfix, and finds it in the Dovecot mailbox with
// mentord's IMAP client.
func TestSubmitThroughPostfixReadThroughDovecot(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg := mentordConfig(t, "daemon")
	box := cfg.Mailbox.Address
	msgID := newMessageID()
	msg := testMessage(box, box, msgID, "e2e: submit through Postfix, read through Dovecot")

	conn, err := sender.New(connect.SMTPConfig(cfg, nil), testLogger(t)).Dial(ctx)
	if err != nil {
		t.Fatalf("sender Dial(127.0.0.1:%d) = %v, want a STARTTLS session authenticated as %s", stack.SubmissionPort, err, box)
	}
	sent := time.Now()
	if err := conn.Send(ctx, sender.Envelope{From: box, To: []string{box}}, msg); err != nil {
		_ = conn.Close()
		t.Fatalf("Send() = %v, want nil (temporary: %v)", err, sender.IsTemporary(err))
	}
	if err := conn.Close(); err != nil {
		t.Errorf("sender Close() = %v, want nil", err)
	}

	c, err := inbox.Dial(ctx, connect.IMAPConfig(cfg, nil))
	if err != nil {
		t.Fatalf("inbox Dial(127.0.0.1:%d) = %v, want a STARTTLS session logged in as %s", stack.IMAPPort, err, box)
	}
	defer c.Close()
	got, err := AwaitMessage(ctx, c, cfg.IMAP.Folders.Inbox, msgID)
	if err != nil {
		t.Fatalf("%v\n%s", err, stack.PostfixTrace(msgID))
	}
	t.Logf("submitted → visible over IMAP after %v (UIDVALIDITY %d, UID %d)",
		time.Since(sent).Round(time.Millisecond), got.UIDValidity, got.UID)

	// Postfix and Dovecot only prepend trace headers; the submitted bytes arrive intact.
	if !bytes.HasSuffix(got.Raw, msg) {
		t.Errorf("delivered message does not end with the submitted bytes:\n--- got\n%s\n--- submitted\n%s", got.Raw, msg)
	}
	m, err := mail.ReadMessage(bytes.NewReader(got.Raw))
	if err != nil {
		t.Fatalf("parse the delivered message: %v", err)
	}
	// "with ESMTPSA" (or UTF8SMTPSA when the client offered SMTPUTF8): Postfix saw
	// TLS (S) and SASL authentication (A); RFC 3848 and RFC 6531 section 3.7.3.
	if rcvd := strings.Join(m.Header["Received"], "\n"); !submittedWithTLSAndAuth.MatchString(rcvd) {
		t.Errorf("Received headers = %q, want Postfix's \"with ESMTPSA\" or \"with UTF8SMTPSA\" (TLS and AUTH)", rcvd)
	}
	if rp := m.Header.Get("Return-Path"); rp != "<"+box+">" {
		t.Errorf("Return-Path = %q, want <%s>", rp, box)
	}
}

// mentordConfig writes and loads a mentord configuration whose programme
// mailbox is the stack's user, with the password in a password file.
func mentordConfig(t *testing.T, user string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "password"), []byte(stack.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := stack.User(user)
	body := fmt.Sprintf(`programme: {name: mentord e2e}
mailbox: {address: %[1]s}
smtp:
  host: %[2]s
  port: %[3]d
  tls: starttls
  ca_file: %[4]s
  auth: plain
  username: %[1]s
  password_file: password
imap:
  host: %[2]s
  port: %[5]d
  tls: starttls
  ca_file: %[4]s
  password_file: password
database: {path: m.db}
`, addr, stack.Host, stack.SubmissionPort, stack.CertFile, stack.IMAPPort)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("load the e2e configuration: %v", err)
	}
	return cfg
}

// TestWrongCertificateAuthorityIsRejected proves that both clients verify the
// server: the same settings with another CA in RootCAs fail with a certificate error.
func TestWrongCertificateAuthorityIsRejected(t *testing.T) {
	wrong := unrelatedCertPool(t)
	from, to := stack.User("daemon"), stack.User("mentee")

	t.Run("sender/starttls", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		conn, err := sender.New(submissionConfig(from, wrong), testLogger(t)).Dial(ctx)
		if err == nil {
			_ = conn.Close()
			t.Fatalf("sender Dial(127.0.0.1:%d) with an unrelated CA = nil error, want a certificate error", stack.SubmissionPort)
		}
		checkCertError(t, "sender Dial", err)
	})
	for _, tc := range []struct {
		security inbox.Security
		port     int
	}{
		{inbox.TLSStartTLS, stack.IMAPPort},
		{inbox.TLSImplicit, stack.IMAPSPort},
	} {
		t.Run("inbox/"+string(tc.security), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			c, err := inbox.Dial(ctx, imapConfig(to, tc.security, tc.port, wrong))
			if err == nil {
				_ = c.Close()
				t.Fatalf("inbox Dial(127.0.0.1:%d) with an unrelated CA = nil error, want a certificate error", tc.port)
			}
			checkCertError(t, "inbox Dial", err)
		})
	}
}

var submittedWithTLSAndAuth = regexp.MustCompile(`\(Postfix\) with (ESMTPSA|UTF8SMTPSA) `)

func submissionConfig(user string, roots *x509.CertPool) sender.Config {
	return sender.Config{
		Host:     stack.Host,
		Port:     stack.SubmissionPort,
		Security: sender.TLSStartTLS,
		Auth:     "plain",
		Username: user,
		Password: stack.Password,
		RootCAs:  roots,
		HeloName: "mentord.e2e.test",
		Timeout:  10 * time.Second,
	}
}

func imapConfig(user string, security inbox.Security, port int, roots *x509.CertPool) inbox.Config {
	return inbox.Config{
		Host:     stack.Host,
		Port:     port,
		Security: security,
		Username: user,
		Password: stack.Password,
		RootCAs:  roots,
		Timeout:  10 * time.Second,
	}
}

// checkCertError fails t unless err says the server certificate did not verify.
func checkCertError(t *testing.T, op string, err error) {
	t.Helper()
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if !errors.As(err, &unknown) && !errors.As(err, &verify) {
		t.Fatalf("%s() = %v (%T), want an x509.UnknownAuthorityError in the chain", op, err, err)
	}
	t.Logf("%s() = %v", op, err)
}

// unrelatedCertPool returns a pool with a fresh self-signed certificate for the
// stack's names, so verification can only fail on the issuer.
func unrelatedCertPool(t *testing.T) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "unrelated test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		DNSNames:              []string{"localhost", "mail." + stack.Domain},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// newMessageID returns a Message-ID (without angle brackets) unique to this run.
func newMessageID() string {
	return fmt.Sprintf("e2e.%d.%s@mentord.e2e.test", time.Now().UnixNano(), rand.Text()[:8])
}

// testMessage returns a small RFC 5322 message with CRLF line ends.
func testMessage(from, to, msgID, subject string) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: <%s>
To: <%s>
Subject: %s
Date: %s
Message-ID: <%s>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello from mentord's end-to-end suite.
Grüße, %s
`, from, to, subject, time.Now().Format(time.RFC1123Z), msgID, msgID), "\n", "\r\n"))
}

// testLogger sends a client's log, debug level included, to the test's output
// and to runLog, which TestMain searches for secrets after the run.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), &runLog), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
