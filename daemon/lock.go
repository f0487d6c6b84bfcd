package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning means another mentord serves the same database.
var ErrAlreadyRunning = errors.New("mentord is already running")

// instanceLock is the one daemon's claim on a database: an exclusive flock on
// a file beside it, held while the process lives (the kernel releases it when
// the process dies, however it dies). Two daemons on one database would each
// release the other's claimed messages at start-up and send them again; the
// admin commands do not take it, so they keep working beside the daemon.
type instanceLock struct{ f *os.File }

// lockPath is the lock file of the database at dbPath.
func lockPath(dbPath string) string { return dbPath + ".lock" }

// lockDatabase takes the lock, or says which process holds it.
func lockDatabase(dbPath string) (*instanceLock, error) {
	path := lockPath(dbPath)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the database: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (pid %s) on %s; stop it first, or give this one another database.path",
				ErrAlreadyRunning, holder(path), dbPath)
		}
		return nil, fmt.Errorf("lock the database with %s: %w", path, err)
	}
	// The holder's pid, for the message above; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &instanceLock{f: f}, nil
}

// holder reads the pid the holder wrote, waiting briefly for a holder that
// has just taken the lock and not yet written it.
func holder(path string) string {
	for i := 0; i < 20; i++ {
		b, err := os.ReadFile(path)
		if pid := strings.TrimSpace(string(b)); err == nil && pid != "" {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "unknown"
}

// release lets another daemon start. The file stays: removing it would let a
// third process lock a new file while a second still waits on the old one.
func (l *instanceLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}
