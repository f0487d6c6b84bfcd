// Package smtptest is an SMTP server for tests (go-smtp on loopback) that
// records what it receives and fails on demand: a 4xx or 5xx for chosen
// recipients, at the end of DATA, for every transaction once some messages
// were accepted (a provider's quota running out), to EHLO (a server that
// turns clients away), or a dropped connection.
//
// The flow:
//  1. Start listens on 127.0.0.1:0 and serves until the test ends.
//  2. A test sets faults (Fail, FailData, FailAfter, Refuse, DropNext) or stops
//     a transaction half-way (HoldNext) and sends with mentord's own client.
//     A reply is an smtp.SMTPError: code, enhanced code and text, which may
//     have several lines.
//  3. Messages returns what was accepted, in order, with its envelope;
//     Connections counts the connections clients opened.
package smtptest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// Sink is a recording SMTP server.
type Sink struct {
	mu       sync.Mutex
	got      []Message
	rcptErr  map[string]*smtp.SMTPError
	dataErr  *smtp.SMTPError
	drop     int // drop the connection in DATA for this many messages
	after    *failAfter
	refuse   *smtp.SMTPError
	conns    int
	hold     *hold
	done     chan struct{} // closed by Close
	stopOnce sync.Once
	accepted chan struct{}
	srv      *smtp.Server
	addr     *net.TCPAddr
}

// Start runs a sink until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{rcptErr: map[string]*smtp.SMTPError{}, accepted: make(chan struct{}, 1<<16), done: make(chan struct{})}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.ErrorLog = discard{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	go s.srv.Serve(countingListener{ln, s})
	t.Cleanup(s.Close)
	return s
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	s *Sink
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// Connections is how many connections clients have opened so far.
func (s *Sink) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// Port is the port the sink listens on at 127.0.0.1.
func (s *Sink) Port() int { return s.addr.Port }

// Close stops the sink, like a server going down.
func (s *Sink) Close() {
	s.stopOnce.Do(func() { close(s.done) })
	s.srv.Close()
}

// Fail makes RCPT TO rcpt answer err (nil clears it).
func (s *Sink) Fail(rcpt string, err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.rcptErr, rcpt)
		return
	}
	s.rcptErr[rcpt] = err
}

// FailData makes the end of DATA answer err (nil clears it).
func (s *Sink) FailData(err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataErr = err
}

// Stage is the command of a transaction a FailAfter fault answers.
type Stage int

// The stages of a transaction.
const (
	AtMail Stage = iota // MAIL FROM
	AtRcpt              // RCPT TO
	AtData              // the end of DATA, once the message was read
)

type failAfter struct {
	left int // messages still accepted before the fault starts
	at   Stage
	err  *smtp.SMTPError
}

// FailAfter lets n more messages through, then answers err at stage to every
// transaction until cleared (a nil err clears it): a provider whose sending
// quota runs out in the middle of a batch.
func (s *Sink) FailAfter(n int, at Stage, err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.after = nil
		return
	}
	s.after = &failAfter{left: n, at: at, err: err}
}

// faultAt returns the FailAfter fault for stage, if it is in force.
func (s *Sink) faultAt(at Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.after; f != nil && f.left <= 0 && f.at == at {
		return f.err
	}
	return nil
}

// Refuse makes every new session answer err to EHLO and HELO, as a server
// turning clients away does (nil clears it).
func (s *Sink) Refuse(err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = err
}

// DropNext closes the connection in the middle of DATA for the next n messages.
func (s *Sink) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop = n
}

// HoldPoint is where in a transaction HoldNext stops.
type HoldPoint int

const (
	// HoldRcpt stops at RCPT TO, before the message exists: a client that dies
	// there has sent nothing.
	HoldRcpt HoldPoint = iota
	// HoldData stops once the whole message is read, before the server's
	// answer: the reply the client is waiting for when it is told to stop.
	HoldData
)

type hold struct {
	at       HoldPoint
	entered  chan struct{}
	released chan struct{}
}

// HoldNext makes the next transaction wait at point until release is called
// (or the sink closes); entered is closed when it starts waiting.
func (s *Sink) HoldNext(at HoldPoint) (entered <-chan struct{}, release func()) {
	h := &hold{at: at, entered: make(chan struct{}), released: make(chan struct{})}
	s.mu.Lock()
	s.hold = h
	s.mu.Unlock()
	var once sync.Once
	return h.entered, func() { once.Do(func() { close(h.released) }) }
}

// wait blocks the calling transaction if a hold is set at point.
func (s *Sink) wait(at HoldPoint) {
	s.mu.Lock()
	h := s.hold
	if h == nil || h.at != at {
		s.mu.Unlock()
		return
	}
	s.hold = nil
	s.mu.Unlock()
	close(h.entered)
	select {
	case <-h.released:
	case <-s.done:
	}
}

// Messages returns what was accepted so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// Reset forgets what was accepted.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = nil
}

// Wait blocks until n messages have been accepted in all, or the timeout passes.
func (s *Sink) Wait(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		if len(s.Messages()) >= n {
			return true
		}
		select {
		case <-s.accepted:
		case <-deadline:
			return false
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	refuse := s.refuse
	s.mu.Unlock()
	if refuse != nil {
		return nil, refuse
	}
	return &session{s: s, conn: c}, nil
}

type session struct {
	s    *Sink
	conn *smtp.Conn
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.to = from, nil
	return ss.s.faultAt(AtMail)
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.wait(HoldRcpt)
	if err := ss.s.faultAt(AtRcpt); err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if e := ss.s.rcptErr[to]; e != nil {
		return e
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	ss.s.mu.Lock()
	drop, derr := ss.s.drop > 0, ss.s.dataErr
	if drop {
		ss.s.drop--
	}
	ss.s.mu.Unlock()
	if drop {
		ss.conn.Conn().Close()
		return errors.New("connection dropped by the test")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	if err := ss.s.faultAt(AtData); err != nil {
		return err
	}
	ss.s.wait(HoldData)
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, Message{From: ss.from, To: ss.to, Data: b, At: time.Now()})
	if ss.s.after != nil {
		ss.s.after.left--
	}
	ss.s.mu.Unlock()
	select {
	case ss.s.accepted <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
