package daemon

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// startListener runs the daemon with the HTTP listener and returns its
// address; limits are shortened for the test and restored after it.
func startListener(t *testing.T, limits httpLimitSet) string {
	t.Helper()
	old := httpLimits
	httpLimits = limits
	t.Cleanup(func() { httpLimits = old })
	path, httpAddr := testConfig(t, "")
	n := newNotifications()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: &syncBuffer{}, Notify: n.notify}) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	n.waitFor(t, "READY=1")
	return httpAddr
}

// get sends one keep-alive request on conn and reads the response.
func get(t *testing.T, conn net.Conn, br *bufio.Reader) *http.Response {
	t.Helper()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// An idle keep-alive connection is closed by the listener after its idle
// timeout: 20,000 of them once used up the process's file descriptors.
func TestHTTPClosesIdleConnections(t *testing.T) {
	addr := startListener(t, httpLimitSet{ReadHeader: 5 * time.Second, Read: 5 * time.Second, Write: 5 * time.Second,
		Idle: 200 * time.Millisecond, Conns: 8})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	get(t, conn, br)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle keep-alive connection: read = %v, want EOF (closed by the server)", err)
	}
}

// No more connections are served at once than the limit; one more is
// served as soon as another closes.
func TestHTTPLimitsConnections(t *testing.T) {
	const limit = 4
	addr := startListener(t, httpLimitSet{ReadHeader: 5 * time.Second, Read: 5 * time.Second, Write: 5 * time.Second,
		Idle: time.Minute, Conns: limit})
	var open []net.Conn
	for i := 0; i < limit; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		get(t, c, bufio.NewReader(c)) // served: the connection is held, idle
		open = append(open, c)
	}
	extra, err := net.Dial("tcp", addr) // the kernel accepts it; the server does not take it yet
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	io.WriteString(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(extra)
	extra.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.Peek(1); err == nil {
		t.Fatalf("connection %d was served while %d were open", limit+1, limit)
	}
	open[0].Close()
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("connection %d not served after one closed: %v", limit+1, err)
	}
	resp.Body.Close()
}
