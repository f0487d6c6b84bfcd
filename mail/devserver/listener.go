package devserver

import (
	"fmt"
	"net"
	"sync"
)

// listenLoopback listens on addr after checking that it is a loopback address.
func listenLoopback(proto, addr string) (net.Listener, error) {
	bind, err := loopbackAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("%s listen address: %w", proto, err)
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("%s listen: %w", proto, err)
	}
	return ln, nil
}

// listener reports when a library's Serve first calls Accept, and keeps the
// connections it accepted so that Close can drop them.
//
// By the first Accept the library has registered the listener, so its Close
// closes it and waits for Serve; Start waits for that moment. Connections are
// tracked here because go-smtp and imapserver register an accepted
// connection only once its goroutine runs, so their Close can miss one.
type listener struct {
	net.Listener
	readyOnce sync.Once
	ready     chan struct{}

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newListener(ln net.Listener) *listener {
	return &listener{
		Listener: ln,
		ready:    make(chan struct{}),
		conns:    make(map[*trackedConn]struct{}),
	}
}

func (l *listener) markReady() { l.readyOnce.Do(func() { close(l.ready) }) }

func (l *listener) Accept() (net.Conn, error) {
	l.markReady()
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: conn, ln: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// closeConns closes every connection accepted so far and any accepted later.
func (l *listener) closeConns() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// trackedConn removes itself from its listener's set when closed.
type trackedConn struct {
	net.Conn
	ln *listener
}

func (c *trackedConn) Close() error {
	c.ln.mu.Lock()
	delete(c.ln.conns, c)
	c.ln.mu.Unlock()
	return c.Conn.Close()
}

// notifier is a broadcast: wait returns a channel that the next notify closes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
