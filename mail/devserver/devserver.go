// Package devserver is the embedded development mail server: SMTP and IMAP on
// loopback, mail kept in memory, any login accepted.
//
// It is mentord's default mail peer when it runs offline (mentord serve
// --config config.example.yaml) and the in-process peer of tests. A person
// points Thunderbird or any IMAP client at it to read what mentees and mentors
// receive, and answers through its SMTP port.
//
// The flow:
//
//  1. Start checks that both listen addresses resolve to loopback addresses
//     only (ErrNotLoopback otherwise), listens, and serves SMTP (go-smtp) and
//     IMAP (go-imap imapserver over imapmemserver) in goroutines.
//  2. An SMTP client submits a message, with AUTH PLAIN or LOGIN and any
//     credentials, or without AUTH. Each recipient gets its own copy, with a
//     Received header, in the INBOX of the user named by the lower-cased
//     address (without its +detail, when Config.RecipientDelimiter is set);
//     users are created on first use.
//  3. An IMAP client logs in with that address and any password and reads the
//     INBOX. A client in IDLE is told about new mail at once; MOVE, UIDPLUS
//     and ESEARCH work (IMAP4rev2, also advertised to IMAP4rev1 clients).
//  4. Tests call Deliver to drop a raw message into an INBOX without SMTP,
//     Mailbox to read a folder back, and Stall to make an IMAP command go
//     unanswered.
//  5. With Config.CheckToken it stands in for Microsoft 365 or Google
//     Workspace: sign-in only with an OAuth token (XOAUTH2, OAUTHBEARER), a
//     refused token answered with the providers' JSON challenge.
//  6. Close stops both listeners and drops open connections; the mail is gone.
//     The next start numbers its mailboxes with new UIDVALIDITY values, so a
//     client's record of the UIDs it read never matches the new mail.
package devserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

// DefaultMaxMessageBytes is the SMTP message size limit when Config leaves it zero.
const DefaultMaxMessageBytes = 25 << 20

// Config says where the development mail server listens.
type Config struct {
	SMTPAddr        string       // listen address, e.g. "127.0.0.1:2525"; "127.0.0.1:0" picks a port
	IMAPAddr        string       // e.g. "127.0.0.1:1143"
	Domain          string       // hostname used in the SMTP greeting, default "localhost"
	MaxMessageBytes int64        // default 25 MiB
	Logger          *slog.Logger // nil = discard
	// RecipientDelimiter, as Postfix's recipient_delimiter: mail to
	// local+detail@domain goes to the INBOX of local@domain ("+" here). Empty:
	// every address is its own mailbox.
	RecipientDelimiter string
	// CheckToken, when set, makes an OAuth-protected server: SMTP and IMAP
	// sign in only with XOAUTH2 or OAUTHBEARER, whose bearer token for the
	// (lower-cased) user CheckToken accepts with nil; passwords are refused
	// and SMTP takes mail only after AUTH.
	CheckToken func(user, token string) error
	// UIDValidity, when set, is the UIDVALIDITY of each user's first mailbox
	// (the next ones count up from it), the same at every start: a server
	// that reuses UIDs, for tests. Zero: every start numbers its mailboxes
	// above every earlier start's, so UIDs read before a restart never name
	// a message delivered after it.
	UIDValidity uint32
	// UIDValidityAbove is the highest UIDVALIDITY a client remembers of this
	// server (mentord's cursor): every mailbox of this start is numbered above it.
	UIDValidityAbove uint32
}

// Server is a running development mail server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	smtp *smtp.Server
	imap *imapserver.Server
	lns  []*listener // SMTP, then IMAP
	wg   sync.WaitGroup

	mu      sync.Mutex
	users   map[string]*imapmemserver.User // by lower-cased address
	changes notifier                       // wakes IMAP sessions in IDLE

	// ownToken signs Mailbox in to an OAuth-protected server.
	ownToken string
	// uidBase is the UIDVALIDITY below this start's mailboxes.
	uidBase uint32
	// stalls are the IMAP commands a test told to go unanswered.
	stalls stalls

	closeOnce sync.Once
	closing   chan struct{}
	closeErr  error
}

// Start listens on both addresses, serves them in goroutines, and returns once
// both are accepting connections. Both addresses must be loopback addresses.
func Start(cfg Config) (*Server, error) {
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		users:    make(map[string]*imapmemserver.User),
		closing:  make(chan struct{}),
		ownToken: rand.Text(),
		uidBase:  cfg.UIDValidity - 1,
	}
	if cfg.UIDValidity == 0 {
		s.uidBase = nextBase(time.Now(), cfg.UIDValidityAbove)
	}
	smtpLn, err := listenLoopback("smtp", cfg.SMTPAddr)
	if err != nil {
		return nil, err
	}
	imapLn, err := listenLoopback("imap", cfg.IMAPAddr)
	if err != nil {
		smtpLn.Close()
		return nil, err
	}
	s.smtp = s.newSMTPServer()
	s.imap = s.newIMAPServer()
	s.serve("smtp", smtpLn, s.smtp.Serve)
	s.serve("imap", imapLn, s.imap.Serve)
	for _, ln := range s.lns {
		<-ln.ready
	}
	log.Info("dev mail server listening", "smtp", s.SMTPAddr(), "imap", s.IMAPAddr())
	log.Warn("dev mail server is for development only: it accepts any login and keeps mail in memory")
	return s, nil
}

// serve runs serveFn on ln in a goroutine that Close waits for.
func (s *Server) serve(proto string, ln net.Listener, serveFn func(net.Listener) error) {
	rl := newListener(ln)
	s.lns = append(s.lns, rl)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer rl.markReady() // Start must not hang if Serve returns early
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("dev mail server panic", "proto", proto, "err", v)
			}
		}()
		err := serveFn(rl)
		select {
		case <-s.closing:
		default:
			if err != nil {
				s.log.Error("dev mail server stopped serving", "proto", proto, "err", err)
			}
		}
	}()
}

// SMTPAddr is the address the SMTP server is bound to.
func (s *Server) SMTPAddr() string { return s.lns[0].Addr().String() }

// IMAPAddr is the address the IMAP server is bound to.
func (s *Server) IMAPAddr() string { return s.lns[1].Addr().String() }

// Close stops both listeners and closes open connections. It is idempotent:
// later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		var errs []error
		keep := func(err error) {
			if err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		keep(s.smtp.Close())
		keep(s.imap.Close())
		// Both libraries close only the listeners and connections they have
		// registered, which they do in goroutines of their own; closing ours
		// as well makes sure the ports are free and no connection lingers.
		for _, ln := range s.lns {
			keep(ln.Close())
			ln.closeConns()
		}
		s.wg.Wait()
		s.closeErr = errors.Join(errs...)
		s.log.Info("dev mail server stopped")
	})
	return s.closeErr
}

// libLogger passes the libraries' Printf-style error logs to slog. They report
// connection errors (routine on a development server) and recovered panics.
type libLogger struct{ log *slog.Logger }

func (l libLogger) Printf(format string, v ...any) { l.print(fmt.Sprintf(format, v...)) }

func (l libLogger) Println(v ...any) { l.print(fmt.Sprintln(v...)) }

func (l libLogger) print(msg string) {
	msg = strings.TrimSpace(msg)
	if strings.Contains(msg, "panic") {
		l.log.Error("dev mail server: " + msg)
		return
	}
	l.log.Debug("dev mail server: " + msg)
}
