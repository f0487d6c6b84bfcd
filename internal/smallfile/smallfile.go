// Package smallfile reads the small files mentord is configured with: the
// configuration, passwords and keys, certificates, the OAuth refresh token.
//
// The flow of Read:
//  1. Open the path for reading with O_NONBLOCK, so that opening a named pipe
//     or a device returns at once instead of waiting for a writer (a
//     password_file pointing at a FIFO used to hang check-config, reload and
//     shutdown).
//  2. Stat the open file, not the path, so what is checked is what is read
//     (no race with a rename in between), and refuse anything but a regular
//     file before reading a byte.
//  3. Read at most the limit plus one byte: a larger file is refused as the
//     wrong file, and nothing unbounded is ever held in memory.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped when the path names a directory, a named pipe, a
// socket or a device.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped when the file holds more than the limit.
var ErrTooLarge = errors.New("file too large")

// Read returns the contents of the regular file at path, at most limit bytes,
// and its file information (for the caller's permission checks).
func Read(path string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, st, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, st, fmt.Errorf("%s: %w: over %d bytes", path, ErrTooLarge, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, st, err
	}
	if int64(len(data)) > limit { // it grew since the stat
		return nil, st, fmt.Errorf("%s: %w: over %d bytes", path, ErrTooLarge, limit)
	}
	return data, st, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
