package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// stack is the running mail stack. TestMain sets it before any test runs.
var stack *Stack

const (
	upTimeout   = 10 * time.Minute // the first run installs the Debian packages
	downTimeout = 2 * time.Minute
	usersLock   = "/run/mailstack.users" // shared while a test run uses the stack
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

	code := m.Run()
	if err := checkLogForSecrets(runLog.Bytes(), stack.Users, stack.Password); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		code = 1
	} else if code == 0 {
		fmt.Fprintf(os.Stderr, "e2e: no password, in any form, in the %d bytes of client log\n", len(runLog.Bytes()))
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
