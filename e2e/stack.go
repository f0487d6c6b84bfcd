// Package e2e is mentord's end-to-end suite against a real Postfix + Dovecot on
// 127.0.0.1 (mailstack.sh; recipe and pitfalls in MAILSTACK.md).
//
// The flow:
//  1. TestMain runs `mailstack.sh up`, which installs the Debian packages when
//     missing, (re)configures and starts both daemons and writes the stack's
//     description to $MS_ROOT/stack.env; Load reads it into a Stack.
//  2. Tests drive mentord's own clients against the stack. TLS is always verified
//     against the stack's self-signed certificate (Stack.CertPool), never skipped.
//  3. Delivery is asynchronous (Postfix queue, then LMTP into Dovecot), so tests
//     wait for a message by its Message-ID with AwaitMessage or
//     Stack.WaitForMessage, which poll IMAP until a deadline.
//  4. The stack's second Dovecot logs in only by OAuth 2.0 bearer token (SASL
//     XOAUTH2 and OAUTHBEARER) and asks an authorization server about each one
//     (RFC 7662 introspection). TestMain runs that server (authServer, an
//     oauthtest.Server) on 127.0.0.1:Stack.OAuthASPort for the whole run;
//     tests get tokens from it and log in at Stack.OAuthHost.
//  5. TestMain runs `mailstack.sh down` unless MENTORD_E2E_KEEP_STACK=1.
//
// The suite needs root on Debian 12. Without them it fails, it does not skip:
// a skipped end-to-end suite looks green while it proves nothing.
package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// DefaultRoot is where mailstack.sh keeps its state unless MS_ROOT says otherwise.
const DefaultRoot = "/var/lib/mailstack"

// Root returns the stack's state directory: $MS_ROOT or DefaultRoot.
func Root() string {
	if r := os.Getenv("MS_ROOT"); r != "" {
		return strings.TrimSuffix(r, "/")
	}
	return DefaultRoot
}

// Stack describes a running mail stack, as written by `mailstack.sh up`.
type Stack struct {
	Root           string
	Host           string // 127.0.0.1; the certificate has it as an IP SAN
	SMTPPort       int    // no auth, STARTTLS offered, relays to @Domain only
	SubmissionPort int    // STARTTLS required, AUTH PLAIN/LOGIN
	IMAPPort       int    // STARTTLS offered
	IMAPSPort      int    // implicit TLS
	Domain         string
	Users          []string // full addresses, all with Password
	Password       string
	Bounce         string // accepted by Postfix, unknown to Dovecot: yields a DSN
	CertFile       string
	CertPool       *x509.CertPool // holds only the stack's self-signed certificate
	PostfixLog     string
	DovecotLog     string

	// The OAuth-only Dovecot: the same users and mailboxes, SASL XOAUTH2 and
	// OAUTHBEARER only, tokens checked at the authorization server on
	// 127.0.0.1:OAuthASPort. It listens on OAuthHost (127.0.0.2), where
	// STARTTLS is required before a token is taken.
	OAuthHost           string
	OAuthIMAPPort       int // STARTTLS, then AUTHENTICATE
	OAuthIMAPSPort      int // implicit TLS
	OAuthSubmissionPort int // STARTTLS required; relays through Postfix
	OAuthASPort         int // where Dovecot expects the authorization server
	Introspector        oauthtest.Credentials
	OAuthDovecotLog     string
}

// Load reads root/stack.env and the certificate it names.
func Load(root string) (*Stack, error) {
	path := filepath.Join(root, "stack.env")
	env, err := readEnv(path)
	if err != nil {
		return nil, fmt.Errorf("read the stack description: %w (does `mailstack.sh up` succeed?)", err)
	}
	s := &Stack{
		Root:       env["MS_ROOT"],
		Host:       env["MS_HOST"],
		Domain:     env["MS_DOMAIN"],
		Users:      strings.Fields(env["MS_USERS"]),
		Password:   env["MS_PASS"],
		Bounce:     env["MS_BOUNCE"],
		CertFile:   env["MS_CERT"],
		PostfixLog: env["MS_POSTFIX_LOG"],
		DovecotLog: env["MS_DOVECOT_LOG"],

		OAuthHost:       env["MS_OAUTH_HOST"],
		Introspector:    oauthtest.Credentials{ID: env["MS_OAUTH_INTROSPECT_ID"], Secret: env["MS_OAUTH_INTROSPECT_SECRET"]},
		OAuthDovecotLog: env["MS_OAUTH_DOVECOT_LOG"],
	}
	var errs []error
	for key, port := range map[string]*int{
		"MS_SMTP_PORT": &s.SMTPPort, "MS_SUBMISSION_PORT": &s.SubmissionPort,
		"MS_IMAP_PORT": &s.IMAPPort, "MS_IMAPS_PORT": &s.IMAPSPort,
		"MS_OAUTH_IMAP_PORT": &s.OAuthIMAPPort, "MS_OAUTH_IMAPS_PORT": &s.OAuthIMAPSPort,
		"MS_OAUTH_SUBMISSION_PORT": &s.OAuthSubmissionPort, "MS_OAUTH_AS_PORT": &s.OAuthASPort,
	} {
		if *port, err = strconv.Atoi(env[key]); err != nil {
			hint := ""
			if strings.HasPrefix(key, "MS_OAUTH_") {
				hint = " (an older mailstack.sh, from another worktree, may have rewritten stack.env: run this one's `up` again)"
			}
			errs = append(errs, fmt.Errorf("%s: %s=%q is not a port%s", path, key, env[key], hint))
		}
	}
	if s.Host == "" || s.Domain == "" || len(s.Users) == 0 || s.Password == "" || s.CertFile == "" {
		errs = append(errs, fmt.Errorf("%s: MS_HOST, MS_DOMAIN, MS_USERS, MS_PASS or MS_CERT is missing", path))
	}
	if s.OAuthHost == "" || s.Introspector.ID == "" || s.Introspector.Secret == "" {
		errs = append(errs, fmt.Errorf("%s: MS_OAUTH_HOST, MS_OAUTH_INTROSPECT_ID or MS_OAUTH_INTROSPECT_SECRET is missing", path))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(s.CertFile)
	if err != nil {
		return nil, fmt.Errorf("read the stack's certificate: %w", err)
	}
	s.CertPool = x509.NewCertPool()
	if !s.CertPool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", s.CertFile)
	}
	return s, nil
}

// readEnv parses the KEY=VALUE lines of a stack.env file; single quotes around a
// value are removed (the file is also meant to be sourced by a shell).
func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
			value = value[1 : len(value)-1]
		}
		env[key] = value
	}
	return env, sc.Err()
}

// User returns the address of the stack user with local part name
// ("mentee" gives "mentee@example.test"). It panics when MS_USERS lacks it.
func (s *Stack) User(name string) string {
	addr := name + "@" + s.Domain
	if !slices.Contains(s.Users, addr) {
		panic(fmt.Sprintf("e2e: %s is not a stack user (MS_USERS has %v)", addr, s.Users))
	}
	return addr
}

// TLSConfig verifies the server against the stack's certificate by its IP SAN.
func (s *Stack) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CertPool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// OAuthTLSConfig verifies the OAuth-only Dovecot by its address, OAuthHost,
// which the certificate also names.
func (s *Stack) OAuthTLSConfig() *tls.Config {
	c := s.TLSConfig()
	c.ServerName = s.OAuthHost
	return c
}

// OAuthIMAPAddr, OAuthIMAPSAddr and OAuthSubmissionAddr are the OAuth-only
// Dovecot's listeners as host:port.
func (s *Stack) OAuthIMAPAddr() string {
	return net.JoinHostPort(s.OAuthHost, strconv.Itoa(s.OAuthIMAPPort))
}

func (s *Stack) OAuthIMAPSAddr() string {
	return net.JoinHostPort(s.OAuthHost, strconv.Itoa(s.OAuthIMAPSPort))
}

func (s *Stack) OAuthSubmissionAddr() string {
	return net.JoinHostPort(s.OAuthHost, strconv.Itoa(s.OAuthSubmissionPort))
}

// DialIMAP logs in as user over STARTTLS with the harness's own client, so a
// test can look at a mailbox independently of mentord's inbox package.
func (s *Stack) DialIMAP(ctx context.Context, user string) (*imapclient.Client, error) {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.IMAPPort))
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("imap connect to %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	c, err := imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		return nil, fmt.Errorf("imap STARTTLS with %s: %w", addr, err)
	}
	if err := c.Login(user, s.Password).Wait(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("imap login as %s to %s: %w", user, addr, err)
	}
	return c, nil
}

// Message is a message found in a mailbox.
type Message struct {
	UIDValidity uint32
	UID         imap.UID
	Raw         []byte // the full message, fetched with BODY.PEEK[] (\Seen is not set)
}

// pollInterval is how often AwaitMessage asks the server again. Delivery on
// loopback takes tens of milliseconds, and a NOOP plus a SEARCH cost well under one.
const pollInterval = 20 * time.Millisecond

// AwaitMessage EXAMINEs mailbox on the logged-in client c and polls until a
// message whose Message-ID header is messageID (with or without angle brackets)
// is there, or ctx ends. See Await.
func AwaitMessage(ctx context.Context, c *imapclient.Client, mailbox, messageID string) (*Message, error) {
	id := "<" + strings.Trim(messageID, "<>") + ">"
	return Await(ctx, c, mailbox, &imap.SearchCriteria{
		Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}},
	})
}

// Await EXAMINEs mailbox on the logged-in client c (so no flag changes) and
// polls (UID SEARCH, then NOOP) until a message matches criteria or ctx ends; it
// returns the first match. go-imap commands take no context, so when ctx ends
// first c is closed, which also unblocks a command in flight.
func Await(ctx context.Context, c *imapclient.Client, mailbox string, criteria *imap.SearchCriteria) (*Message, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	what := describe(criteria)
	wrap := func(op string, err error) error {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return fmt.Errorf("await %s in %s: %s: %w", what, mailbox, op, err)
	}

	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, wrap("EXAMINE", err)
	}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for polls := 1; ; polls++ {
		data, err := c.UIDSearch(criteria, nil).Wait()
		if err != nil {
			return nil, wrap("UID SEARCH", err)
		}
		if uids := data.AllUIDs(); len(uids) > 0 {
			return fetchRaw(c, sel.UIDValidity, uids[0], wrap)
		}
		select {
		case <-ctx.Done():
			n := uint32(0)
			if mbox := c.Mailbox(); mbox != nil {
				n = mbox.NumMessages
			}
			return nil, fmt.Errorf("no message matching %s in %s after %d polls (the mailbox holds %d messages): %w",
				what, mailbox, polls, n, ctx.Err())
		case <-ticker.C:
		}
		if err := c.Noop().Wait(); err != nil {
			return nil, wrap("NOOP", err)
		}
	}
}

// describe renders the parts of criteria that the suite uses, for error messages.
func describe(criteria *imap.SearchCriteria) string {
	var parts []string
	for _, h := range criteria.Header {
		parts = append(parts, fmt.Sprintf("%s: %s", h.Key, h.Value))
	}
	for _, s := range criteria.Text {
		parts = append(parts, fmt.Sprintf("TEXT %q", s))
	}
	for _, s := range criteria.Body {
		parts = append(parts, fmt.Sprintf("BODY %q", s))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%+v", *criteria)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func fetchRaw(c *imapclient.Client, uidValidity uint32, uid imap.UID, wrap func(string, error) error) (*Message, error) {
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, wrap("UID FETCH", err)
	}
	if len(msgs) != 1 {
		return nil, wrap("UID FETCH", fmt.Errorf("got %d messages for UID %d, want 1", len(msgs), uid))
	}
	return &Message{UIDValidity: uidValidity, UID: uid, Raw: msgs[0].FindBodySection(section)}, nil
}

// WaitForMessage logs in as user with the harness's client and waits until a
// message with messageID is in the INBOX or ctx ends. On failure the error
// carries what Postfix logged about the message.
func (s *Stack) WaitForMessage(ctx context.Context, user, messageID string) (*Message, error) {
	c, err := s.DialIMAP(ctx, user)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msg, err := AwaitMessage(ctx, c, "INBOX", messageID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", user, err, s.PostfixTrace(messageID))
	}
	_ = c.Logout().Wait()
	return msg, nil
}

// PostfixTrace returns the lines of the Postfix log about the message with
// messageID: those of its queue IDs and of the DSNs Postfix sent for it.
func (s *Stack) PostfixTrace(messageID string) string {
	data, err := os.ReadFile(s.PostfixLog)
	if err != nil {
		return fmt.Sprintf("(no Postfix log: %v)", err)
	}
	lines := strings.Split(string(data), "\n")
	needle := "message-id=<" + strings.Trim(messageID, "<>") + ">"
	ids := map[string]bool{}
	for _, l := range lines {
		if strings.Contains(l, needle) {
			if id := queueID(l); id != "" {
				ids[id] = true
			}
		}
	}
	if len(ids) == 0 {
		return fmt.Sprintf("(%s has no line with %s: Postfix never accepted the message)", s.PostfixLog, needle)
	}
	var out []string
	for _, l := range lines {
		id := queueID(l)
		if !ids[id] {
			continue
		}
		out = append(out, l)
		// "sender non-delivery notification: 4Xyz" names the DSN's own queue ID.
		if _, dsn, ok := strings.Cut(l, "notification: "); ok {
			ids[strings.TrimSpace(dsn)] = true
		}
	}
	return fmt.Sprintf("%s about %s:\n%s", s.PostfixLog, needle, strings.Join(out, "\n"))
}

// queueID returns the queue ID of a Postfix log line ("... postfix/qmgr[12]: 4Xyz: ...").
func queueID(line string) string {
	_, rest, ok := strings.Cut(line, "]: ")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ": ")
	if !ok || id == "" || strings.ContainsAny(id, " =") {
		return ""
	}
	return id
}
