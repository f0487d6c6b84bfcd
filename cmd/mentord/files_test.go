package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mentord/mentord/mail/devserver"
)

// systemFiles are the files outside its own directories the service may
// read, each for a reason; nothing outside its own directories may be
// written.
var systemFiles = []struct{ prefix, why string }{
	{"/etc/ld.so.", "the dynamic loader (SQLite is linked through cgo)"},
	{"/lib/", "the C library"},
	{"/lib64/", "the C library"},
	{"/usr/lib/", "the C library"},
	{"/etc/localtime", "the system's time zone"},
	{"/usr/share/zoneinfo/", "the people's time zones"},
	{"/etc/ssl/", "the system's CA certificates, for TLS"},
	{"/etc/nsswitch.conf", "resolving the mail servers' names"},
	{"/etc/hosts", "resolving the mail servers' names"},
	{"/etc/resolv.conf", "resolving the mail servers' names"},
	{"/etc/host.conf", "resolving the mail servers' names"},
	{"/etc/gai.conf", "resolving the mail servers' names"},
	{"/proc/self/", "the Go runtime and C library: memory map, cgroup limits"},
	{"/proc/sys/", "the Go runtime: overcommit and listen backlog settings"},
	{"/sys/kernel/mm/transparent_hugepage/", "the Go runtime"},
	{"/sys/fs/cgroup/", "the Go runtime: the CPU limit"},
	{"/sys/devices/system/cpu/", "the C library: how many CPUs are online"},
	{"/usr/share/mime/", "Go's mime package: the system's MIME types"},
	{"/usr/local/share/mime/", "Go's mime package: the system's MIME types"},
	{"/etc/mime.types", "Go's mime package: the system's MIME types"},
	{"/etc/apache2/mime.types", "Go's mime package: the system's MIME types"},
	{"/etc/apache/mime.types", "Go's mime package: the system's MIME types"},
	{"/etc/httpd/conf/mime.types", "Go's mime package: the system's MIME types"},
	{"/dev/urandom", "randomness"},
	{"/dev/null", "nothing"},
}

// The service opens files only in its state directory, its configuration's
// directory and its credentials directory (RELIABILITY.md Y3), apart from the
// read-only system files above: a whole run (start, sending, reading a reply,
// a reload, a stop) is traced with strace.
func TestServiceOpensOnlyItsOwnFiles(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is not installed (scripts/install-test-deps.sh installs it)")
	}
	root := t.TempDir()
	etc, state, creds := filepath.Join(root, "etc", "mentord"), filepath.Join(root, "state"), filepath.Join(root, "credentials")
	for _, d := range []string{etc, state, creds} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"smtp-password", "imap-password"} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte("e2e-Secret-7Kq9xZ\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The programme's mail servers: the dev server, in this process, as an outside peer.
	srv, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", RecipientDelimiter: "+"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hostPort := func(addr string) (string, int) {
		i := strings.LastIndex(addr, ":")
		port, _ := strconv.Atoi(addr[i+1:])
		return addr[:i], port
	}
	smtpHost, smtpPort := hostPort(srv.SMTPAddr())
	imapHost, imapPort := hostPort(srv.IMAPAddr())
	config := filepath.Join(etc, "config.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: mentord.db}
smtp: {host: %s, port: %d, tls: none, auth: plain, username: mentoring@example.org, password_credential: smtp-password}
imap: {host: %s, port: %d, tls: none, password_credential: imap-password}
timings: {quiet_hours: {start: "", end: ""}}
http: {listen: "127.0.0.1:%d"}
`, smtpHost, smtpPort, imapHost, imapPort, freePort(t))), 0o640)
	env := []string{"STATE_DIRECTORY=" + state, "CREDENTIALS_DIRECTORY=" + creds}
	addPairSoon(t, env, config)

	notify := newNotifySocket(t)
	trace := filepath.Join(root, "trace")
	p := &process{cmd: exec.Command(strace, "-f", "-qq", "-e", "trace=%file", "-o", trace, binary(t), "serve", "--config", config),
		logs: &logBuffer{}, done: make(chan error, 1)}
	p.cmd.Dir = "/" // as under systemd
	p.cmd.Env = append(os.Environ(), append(env, "NOTIFY_SOCKET="+notify.path)...)
	p.cmd.Stderr = p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // strace and mentord, killed together
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); <-p.done })
	notify.waitFor(t, "READY=1", 1)
	// The pid (of mentord, not strace) is in the log line written as it
	// becomes ready, which may reach the pipe just after READY=1.
	var pid []string
	for deadline := time.Now().Add(10 * time.Second); pid == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pid = regexp.MustCompile(`msg="mentord running".* pid=(\d+)`).FindStringSubmatch(p.logs.String())
	}
	if pid == nil {
		t.Fatalf("no pid in the log:\n%s", p.logs)
	}
	daemonPID, _ := strconv.Atoi(pid[1])
	daemon, _ := os.FindProcess(daemonPID)

	// The checklist arrives; the mentee answers it; the answer is read and filed.
	checklist := waitForMail(t, srv, "bo@example.org", "INBOX", "Plan your mentoring session 1")
	replyTo, err := mail.ParseAddress(headerLine(checklist, "Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	reply := strings.ReplaceAll(fmt.Sprintf(`From: Bo Mentee <bo@example.org>
To: %s
Subject: Re: Plan your mentoring session 1
Message-ID: <files-test-1@example.org>
Content-Type: text/plain; charset=UTF-8

1. A sparring partner.
`, replyTo.Address), "\n", "\r\n")
	if err := srv.Deliver(replyTo.Address, []byte(reply)); err != nil {
		t.Fatal(err)
	}
	waitForMail(t, srv, "mentoring@example.org", "Processed", "files-test-1@example.org")
	waitForMail(t, srv, "bo@example.org", "INBOX", "In-Reply-To: <files-test-1@example.org>") // the acknowledgement, in the reply's thread
	daemon.Signal(syscall.SIGHUP)
	notify.waitFor(t, "READY=1", 2)
	daemon.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}

	opened, err := tracedFiles(trace)
	if err != nil {
		t.Fatal(err)
	}
	own := []string{state + "/", etc + "/", creds + "/", binary(t)}
	var reads, writes int
	for _, f := range opened {
		if f.write {
			writes++
		} else {
			reads++
		}
		if hasAnyPrefix(f.path, own) || f.path == state || f.path == etc || f.path == creds {
			continue
		}
		allowed := false
		for _, s := range systemFiles {
			allowed = allowed || strings.HasPrefix(f.path, s.prefix)
		}
		switch {
		case f.write && f.path != "/dev/null":
			t.Errorf("wrote outside its directories: %s", f.line)
		case !allowed:
			t.Errorf("opened a file outside its directories: %s", f.line)
		}
	}
	if reads == 0 || writes == 0 {
		t.Fatalf("the trace holds %d reads and %d writes: strace saw nothing", reads, writes)
	}
	t.Logf("%d file operations traced, %d of them writing", reads+writes, writes)
	for _, f := range opened {
		t.Log(f.line)
	}
}

// tracedFile is one path a traced syscall opened or changed.
type tracedFile struct {
	path, line string
	write      bool // opened for writing, created, removed, renamed or linked
}

var (
	tracedPath = regexp.MustCompile(`^\d+\s+(\w+)\((?:AT_FDCWD|\d+<[^>]*>|\d+), "([^"]*)"|^\d+\s+(\w+)\("([^"]*)"`)
	writeFlags = regexp.MustCompile(`O_WRONLY|O_RDWR|O_CREAT|O_TRUNC`)
	writeCalls = map[string]bool{"mkdir": true, "mkdirat": true, "unlink": true, "unlinkat": true, "rename": true, "renameat": true,
		"renameat2": true, "link": true, "linkat": true, "symlink": true, "symlinkat": true, "chmod": true, "fchmodat": true,
		"chown": true, "fchownat": true, "truncate": true, "rmdir": true, "creat": true, "utimensat": true}
)

// tracedFiles reads an strace -e trace=%file log: the absolute paths opened
// or changed, and whether the call could change the file system. Calls that
// only look (stat, access, readlink) and execve of the binary are left out.
func tracedFiles(trace string) ([]tracedFile, error) {
	f, err := os.Open(trace)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []tracedFile
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		m := tracedPath.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		call, path := m[1]+m[3], m[2]+m[4]
		if call == "execve" || !filepath.IsAbs(path) {
			continue
		}
		open := strings.HasPrefix(call, "open") || call == "creat"
		write := writeCalls[call] || open && writeFlags.MatchString(line)
		if !open && !write {
			continue // stat, access, readlink: looking, not opening
		}
		out = append(out, tracedFile{path: filepath.Clean(path), line: line, write: write})
	}
	return out, sc.Err()
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) || s == strings.TrimSuffix(p, "/") {
			return true
		}
	}
	return false
}

// waitForMail waits until folder of addr holds a message containing text, and returns it.
func waitForMail(t *testing.T, srv *devserver.Server, addr, folder, text string) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		msgs, _ := srv.Mailbox(addr, folder)
		for _, m := range msgs {
			if bytes.Contains(m, []byte(text)) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no message with %q in %s of %s", text, folder, addr)
	return nil
}

// headerLine returns a header's value from a raw message.
func headerLine(raw []byte, name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}
