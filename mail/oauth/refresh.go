package oauth

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/mentord/mentord/internal/smallfile"
)

// ErrNoRefreshToken means no one has signed in yet: run `mentord oauth login`.
var ErrNoRefreshToken = errors.New("no refresh token yet")

// maxRefreshToken bounds the refresh token file (Microsoft's are about 1.5 kB).
const maxRefreshToken = 16 << 10

// refreshStore keeps the refresh token in its file. The file is read before
// every use, so a new `oauth login` takes effect without a restart; a token
// the server rotated is written back at once. When the file cannot be
// written (a read-only place), the rotated token is kept in memory and used
// until the file changes.
type refreshStore struct {
	file  string
	log   *slog.Logger
	write func(file, token string) error // WriteRefreshToken; tests replace it

	mu       sync.Mutex
	seen     string // the file's content when last read or written
	inMemory string // a rotated token that could not be written
}

// load returns the refresh token to use now.
func (r *refreshStore) load() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data, err := readToken(r.file)
	if errors.Is(err, fs.ErrNotExist) {
		if r.inMemory != "" {
			return r.inMemory, nil
		}
		return "", &Error{Op: "read the refresh token", Err: ErrNoRefreshToken,
			Hint: fmt.Sprintf("%s does not exist: sign in once with `mentord oauth login`", r.file)}
	}
	if err != nil {
		return "", &Error{Op: "read the refresh token", Err: err}
	}
	if data != r.seen { // written by `oauth login` (or first read)
		r.seen, r.inMemory = data, ""
	}
	if r.inMemory != "" {
		return r.inMemory, nil
	}
	return data, nil
}

// rotated stores the refresh token the server issued in place of the old one.
func (r *refreshStore) rotated(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	write := r.write
	if write == nil {
		write = WriteRefreshToken
	}
	if err := write(r.file, token); err != nil {
		r.inMemory = token
		r.log.Warn("oauth: the server renewed the refresh token, but it cannot be saved; using it from memory until a restart",
			"file", r.file, "err", err)
		return
	}
	r.seen, r.inMemory = token, ""
	r.log.Info("oauth: the server renewed the refresh token; saved", "file", r.file)
}

func readToken(file string) (string, error) {
	data, st, err := smallfile.Read(file, maxRefreshToken)
	switch {
	case errors.Is(err, smallfile.ErrTooLarge):
		return "", fmt.Errorf("%s is over %d bytes: not a refresh token file", file, maxRefreshToken)
	case err != nil:
		return "", err
	case st.Mode().Perm()&0o007 != 0:
		return "", fmt.Errorf("%s is readable by other users (mode %04o); chmod 0600 it", file, st.Mode().Perm())
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s does not hold one refresh token; sign in again with `mentord oauth login`", file)
	}
	return tok, nil
}

// WriteRefreshToken replaces file with token atomically (a temporary file in
// the same directory, synced, then renamed), mode 0600. Run as root (an admin
// running `oauth login` for the service), it gives the file to the owner of
// its directory, the service's user, so the service can read and renew it.
func WriteRefreshToken(file, token string) error {
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, ".oauth-refresh-token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if os.Geteuid() == 0 {
		if st, err := os.Stat(dir); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
				if err := tmp.Chown(int(sys.Uid), int(sys.Gid)); err != nil {
					tmp.Close()
					return err
				}
			}
		}
	}
	if _, err := tmp.WriteString(token + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
