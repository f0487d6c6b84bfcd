package devserver

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/mail"
	"slices"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP timeouts: generous, since a person may be typing commands by hand.
const (
	smtpReadTimeout  = 5 * time.Minute
	smtpWriteTimeout = time.Minute
)

var (
	errBadSender = &smtp.SMTPError{
		Code:         553,
		EnhancedCode: smtp.EnhancedCode{5, 1, 7},
		Message:      "Bad sender address syntax",
	}
	errBadRecipient = &smtp.SMTPError{
		Code:         553,
		EnhancedCode: smtp.EnhancedCode{5, 1, 3},
		Message:      "Bad destination mailbox address syntax",
	}
	errDeliver = &smtp.SMTPError{
		Code:         451,
		EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message:      "Could not store the message, try again",
	}
)

func (s *Server) newSMTPServer() *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = s.cfg.Domain
	srv.MaxMessageBytes = s.cfg.MaxMessageBytes
	srv.AllowInsecureAuth = true // loopback only, see Start
	srv.ReadTimeout = smtpReadTimeout
	srv.WriteTimeout = smtpWriteTimeout
	srv.ErrorLog = libLogger{s.log.With("proto", "smtp")}
	return srv
}

// smtpSession is one SMTP connection's state: it accepts any sender, any
// syntactically valid recipient, and any AUTH credentials.
type smtpSession struct {
	srv    *Server
	conn   *smtp.Conn
	authed bool
	from   string
	rcpts  []string // lower-cased, without duplicates
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (ss *smtpSession) AuthMechanisms() []string {
	if ss.srv.cfg.CheckToken != nil {
		return tokenMechanisms
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if ss.srv.cfg.CheckToken != nil {
		return ss.smtpTokenAuth(mech)
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, _, _ string) error {
			ss.authed = true
			return nil
		}), nil
	case sasl.Login:
		return &loginServer{done: func() { ss.authed = true }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.cfg.CheckToken != nil && !ss.authed {
		return errAuthRequired
	}
	if from != "" { // "" is the null reverse-path of bounces
		if _, err := parseAddr(from); err != nil {
			return errBadSender
		}
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	addr, err := parseAddr(to)
	if err != nil {
		return errBadRecipient
	}
	if !slices.Contains(ss.rcpts, addr) {
		ss.rcpts = append(ss.rcpts, addr)
	}
	return nil
}

// Data stores a copy of the message, behind its own Received header, in the
// INBOX of every recipient. go-smtp's reader enforces MaxMessageBytes and
// turns the error into a 552 reply.
func (ss *smtpSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, rcpt := range ss.rcpts {
		msg := append(ss.received(rcpt, now), body...)
		if err := ss.srv.deliver(rcpt, msg); err != nil {
			ss.srv.log.Error("dev mail server could not store a message", "err", err)
			return errDeliver
		}
		ss.srv.log.Debug("dev mail server delivered",
			"from", ss.from, "rcpt", rcpt, "msgid", messageID(body), "bytes", len(msg))
	}
	return nil
}

func (ss *smtpSession) Reset() {
	ss.from = ""
	ss.rcpts = nil
}

func (ss *smtpSession) Logout() error { return nil }

// received returns the trace header for one recipient's copy (RFC 5321
// section 4.4; "ESMTPA" marks an authenticated submission, RFC 3848).
func (ss *smtpSession) received(rcpt string, now time.Time) []byte {
	client := ss.conn.Conn().RemoteAddr().String()
	if host, _, err := net.SplitHostPort(client); err == nil {
		client = host
	}
	with := "ESMTP"
	if ss.authed {
		with = "ESMTPA"
	}
	return fmt.Appendf(nil, "Received: from %s ([%s])\r\n\tby %s (mentord dev mail server) with %s\r\n\tfor <%s>; %s\r\n",
		ss.conn.Hostname(), client, ss.srv.cfg.Domain, with, rcpt, now.Format(time.RFC1123Z))
}

// messageID returns the Message-ID header of msg, or "" if it has none.
func messageID(msg []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return ""
	}
	return m.Header.Get("Message-Id")
}

// loginServer is the server side of the obsolete but common LOGIN mechanism
// (draft-murchison-sasl-login): user name, which may come as the initial
// response, then password. go-sasl only ships the client side.
type loginServer struct {
	step int
	done func()
}

func (l *loginServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	switch {
	case l.step == 0 && resp == nil:
		l.step = 1
		return []byte("Username:"), false, nil
	case l.step < 2:
		l.step = 2
		return []byte("Password:"), false, nil
	default:
		l.done()
		return nil, true, nil
	}
}
