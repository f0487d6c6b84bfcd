package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// stack is the running mail stack. TestMain sets it before any test runs.
var stack *Stack

// authServer is the OAuth 2.0 authorization server that the stack's OAuth-only
// Dovecot asks about every token (RFC 7662 introspection). TestMain runs it on
// 127.0.0.1:stack.OAuthASPort, on real time, for the whole run. Tests may add
// their own clients (AddClient) and change what belongs to them; the clients
// in oauthClients are shared, so a test revokes or expires only its own tokens.
// FailNext and FailIntrospection hit whichever request comes next, so a test
// that uses them must not run in parallel with other OAuth tests.
var authServer *oauthtest.Server

// oauthClients are the confidential clients TestMain registers on authServer,
// one per stack user and keyed by the user's address: a client_credentials
// token of a user's client opens that user's mailbox. Their secrets are new
// each run; the secret check knows them.
var oauthClients map[string]oauthtest.Credentials

// asLockFile holds asLock for the rest of the process.
var asLockFile *os.File

const (
	upTimeout   = 10 * time.Minute // the first run installs the Debian packages
	downTimeout = 2 * time.Minute
	usersLock   = "/run/mailstack.users" // shared while a test run uses the stack
	// asLock is held while a test run serves the authorization server on the
	// stack's fixed port; a second run at the same time waits for it.
	asLock = "/run/mailstack.oauth-as"
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if uid := os.Geteuid(); uid != 0 {
		return cannotStart(fmt.Errorf("the test runs as uid %d, not root", uid))
	}
	// Test runs share the one stack a machine can have (several `go test ./...`
	// at once). Each holds a shared lock while it uses the stack, and only a run
	// that can then take the lock exclusively stops it.
	users, err := os.OpenFile(usersLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return cannotStart(err)
	}
	defer users.Close()
	if err := syscall.Flock(int(users.Fd()), syscall.LOCK_SH); err != nil {
		return cannotStart(fmt.Errorf("lock %s: %w", usersLock, err))
	}
	if err := mailstack("up", upTimeout); err != nil {
		return cannotStart(err)
	}
	s, err := Load(Root())
	if err != nil {
		return cannotStart(err)
	}
	stack = s
	as, err := startAuthServer(s)
	if err != nil {
		return cannotStart(err)
	}
	authServer = as

	code := m.Run()
	if err := checkLogForSecrets(runLog.Bytes(), stack.Users, stack.Password, authServer.Secrets()); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		code = 1
	} else if code == 0 {
		fmt.Fprintf(os.Stderr, "e2e: no password, client secret, private key or token, in any form, in the %d bytes of client log\n", len(runLog.Bytes()))
	}
	if err := as.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: stop the authorization server: %v\n", err)
	}

	if os.Getenv("MENTORD_E2E_KEEP_STACK") == "1" {
		fmt.Fprintln(os.Stderr, "e2e: MENTORD_E2E_KEEP_STACK=1, so the mail stack stays up; stop it with `bash e2e/mailstack.sh down`")
		return code
	}
	if err := syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: another test run is using the mail stack, so it stays up; the last run stops it")
		return code
	}
	if err := mailstack("down", downTimeout); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cannot stop the mail stack: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// startAuthServer runs the authorization server where the OAuth-only Dovecot
// expects it, with the introspection credentials of stack.env and a client per
// stack user. Only one test run at a time can listen there, so a second run
// waits for the first (asLock). The lock is held until the process exits.
func startAuthServer(s *Stack) (*oauthtest.Server, error) {
	f, err := os.OpenFile(asLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	asLockFile = f // referenced, so that no finalizer closes it and drops the lock
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: another test run serves the authorization server on 127.0.0.1:%d; waiting for it to finish (lock %s)\n", s.OAuthASPort, asLock)
		locked := make(chan error, 1)
		go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
		select {
		case err := <-locked:
			if err != nil {
				return nil, fmt.Errorf("lock %s: %w", asLock, err)
			}
		case <-time.After(upTimeout):
			return nil, fmt.Errorf("another test run still held %s after %v", asLock, upTimeout)
		}
	}
	opts := oauthtest.Options{
		Addr:         net.JoinHostPort("127.0.0.1", strconv.Itoa(s.OAuthASPort)),
		Introspector: &s.Introspector,
	}
	oauthClients = map[string]oauthtest.Credentials{}
	for _, user := range s.Users {
		c := oauthtest.Credentials{ID: "e2e-" + strings.Split(user, "@")[0], Secret: "e2e-Client-" + rand.Text()}
		oauthClients[user] = c
		opts.Clients = append(opts.Clients, oauthtest.Client{ID: c.ID, Secret: c.Secret, User: user})
	}
	as, err := oauthtest.New(opts)
	if err != nil {
		return nil, fmt.Errorf("the authorization server for the OAuth-only Dovecot: %w (is MS_OAUTH_AS_PORT=%d free? see: ss -ltnp 'sport = :%d')", err, s.OAuthASPort, s.OAuthASPort)
	}
	return as, nil
}

// cannotStart explains the failure and fails the run: the suite never skips.
func cannotStart(err error) int {
	fmt.Fprintf(os.Stderr, "e2e: cannot start the Postfix+Dovecot mail stack: %v; "+
		"the e2e tests need root and Debian packages postfix dovecot-imapd dovecot-lmtpd; see e2e/mailstack.sh\n", err)
	return 1
}

// mailstack runs `mailstack.sh command` (the test runs in e2e/) with its output
// on the test's output.
func mailstack(command string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "mailstack.sh", command)
	// Writers that are not *os.File make exec copy through pipes, so WaitDelay
	// bounds the wait should a daemon ever inherit them (a pitfall in MAILSTACK.md)
	// instead of hanging the whole test binary.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("mailstack.sh %s did not finish within %v", command, timeout)
	case errors.Is(err, exec.ErrWaitDelay):
		return fmt.Errorf("mailstack.sh %s exited but a process it started kept its output open", command)
	case err != nil:
		return fmt.Errorf("mailstack.sh %s: %w", command, err)
	}
	fmt.Fprintf(os.Stderr, "e2e: mailstack.sh %s took %v\n", command, time.Since(start).Round(time.Millisecond))
	return nil
}
