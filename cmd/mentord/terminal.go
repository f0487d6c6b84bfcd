package main

import (
	"io"
	"sync"
	"unicode/utf8"

	"github.com/mentord/mentord/daemon/records"
)

// cleanWriter passes what a command prints to the admin's terminal without
// the characters a terminal acts on (records.Hidden: escape sequences, the
// bell, C1 controls, bidi overrides). Names, addresses, answers, a
// stranger's From and a server's reply all reach the admin's screen; none may
// retitle the window, rewrite what is shown or hide text. Carriage returns
// go too (a line written over); invalid UTF-8 becomes U+FFFD. A character
// split across two writes is held until the rest comes. Safe for concurrent
// use (the daemon logs from several goroutines).
type cleanWriter struct {
	mu   sync.Mutex
	w    io.Writer
	held []byte // the start of a UTF-8 sequence the last write ended in
}

func newCleanWriter(w io.Writer) *cleanWriter { return &cleanWriter{w: w} }

func (c *cleanWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := append(c.held, p...)
	c.held = nil
	out := make([]byte, 0, len(in))
	for len(in) > 0 {
		r, n := utf8.DecodeRune(in)
		switch {
		case r == utf8.RuneError && n <= 1 && !utf8.FullRune(in):
			c.held = append([]byte(nil), in...) // the rest comes with the next write
			in = nil
			continue
		case r == utf8.RuneError && n <= 1:
			out = utf8.AppendRune(out, utf8.RuneError)
		case !records.Hidden(r):
			out = append(out, in[:n]...)
		}
		in = in[n:]
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
