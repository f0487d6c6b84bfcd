package oauth

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The refresh token file is replaced whole, mode 0600, and belongs to whoever
// owns its directory: an admin running `oauth login` as root writes into the
// service's state directory, and the service (its own user) must read and
// renew the file.
func TestWriteRefreshTokenOwnerAndMode(t *testing.T) {
	dir := t.TempDir()
	const service = 4242 // a user id like systemd's DynamicUser=
	wantUID := os.Geteuid()
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, service, service); err != nil {
			t.Fatal(err)
		}
		wantUID = service
	}
	file := filepath.Join(dir, "oauth-refresh-token")
	for _, tok := range []string{"first-refresh-token", "second-refresh-token"} {
		if err := WriteRefreshToken(file, tok); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 || int(st.Sys().(*syscall.Stat_t).Uid) != wantUID {
			t.Errorf("mode %v, owner %d; want 0600 and %d", st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Uid, wantUID)
		}
		if got, err := readToken(file); err != nil || got != tok {
			t.Errorf("read back %q, %v", got, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A token file others can read is refused, as every secret file is.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readToken(file); err == nil {
		t.Errorf("a world-readable refresh token file was read")
	}
}

// A refresh token "file" that is a named pipe is refused at once: reading
// it must never wait for a writer (it would hang the token's renewal, and
// with it sending, reading and shutdown).
func TestRefreshTokenFileMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "oauth-refresh-token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // lets go of a reader blocked on it (before the fix)
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := readToken(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("readToken(a named pipe) = %v, want not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("readToken blocked on a named pipe")
	}
}
