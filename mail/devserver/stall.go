package devserver

import (
	"strings"
	"sync"
)

// stalls are the IMAP commands held back by Stall, each with the channel its
// release closes.
type stalls struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// Stall makes the IMAP server stop answering the command named (SELECT,
// EXAMINE, STATUS, FETCH, SEARCH, MOVE, LIST or CREATE, with or without UID)
// on every connection, as Dovecot does while it waits for its own index
// lock: the command is read and then waits, without a word, until release is
// called or the server closes. For tests of a client's deadlines.
func (s *Server) Stall(command string) (release func()) {
	name := strings.ToUpper(command)
	if name == "EXAMINE" {
		name = "SELECT"
	}
	ch := make(chan struct{})
	s.stalls.mu.Lock()
	if s.stalls.held == nil {
		s.stalls.held = map[string]chan struct{}{}
	}
	s.stalls.held[name] = ch
	s.stalls.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.stalls.mu.Lock()
			if s.stalls.held[name] == ch {
				delete(s.stalls.held, name)
			}
			s.stalls.mu.Unlock()
			close(ch)
		})
	}
}

// hold waits while the command is stalled.
func (s *Server) hold(command string) {
	s.stalls.mu.Lock()
	ch := s.stalls.held[command]
	s.stalls.mu.Unlock()
	if ch == nil {
		return
	}
	s.log.Debug("dev mail server: stalling", "command", command)
	select {
	case <-ch:
	case <-s.closing:
	}
}
