package devserver

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

func (s *Server) newIMAPServer() *imapserver.Server {
	return imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{srv: s}, nil, nil
		},
		// With IMAP4rev2 in the set, imapserver also advertises its parts
		// (NAMESPACE, UIDPLUS, ESEARCH, MOVE, ...) to IMAP4rev1 clients such
		// as Thunderbird. IDLE is always advertised once logged in.
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger:       libLogger{s.log.With("proto", "imap")},
		InsecureAuth: true, // loopback only, see Start
	})
}

// imapSession lets any address log in with any password and hands everything
// else to imapmemserver. The embedded pointer is nil until Login; imapserver
// calls nothing but Login and Close before that, and UserSession.Close
// accepts a nil receiver. Embedding keeps the optional interfaces imapserver
// type-asserts (SessionIMAP4rev2: NAMESPACE, MOVE) visible.
type imapSession struct {
	*imapmemserver.UserSession
	srv *Server
}

var (
	_ imapserver.SessionIMAP4rev2   = (*imapSession)(nil)
	_ imapserver.SessionAppendLimit = (*imapSession)(nil)
	_ imapserver.SessionSASL        = (*imapSession)(nil)
)

func (is *imapSession) Login(username, _ string) error {
	if is.srv.cfg.CheckToken != nil {
		return errNoPasswords
	}
	addr, err := parseAddr(username)
	if err != nil {
		return &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeAuthenticationFailed,
			Text: "Log in with an email address as the user name (any password works)",
		}
	}
	is.open(addr)
	return nil
}

// open starts the session of the user who signed in.
func (is *imapSession) open(addr string) {
	is.UserSession = imapmemserver.NewUserSession(is.srv.user(addr))
	is.srv.log.Debug("dev mail server imap login", "user", addr)
}

// AppendLimit advertises the SMTP size limit for APPEND too.
func (is *imapSession) AppendLimit() uint32 {
	return uint32(min(is.srv.cfg.MaxMessageBytes, math.MaxUint32))
}

// Idle announces mailbox changes until stop is closed. imapmemserver's own
// Idle only reports changes made after IDLE began: a message delivered
// between the client's previous command and IDLE would stay unannounced until
// something else happened. So: send what is pending, then wait for the next
// change anywhere on the server and repeat.
func (is *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		changed := is.srv.changes.wait()
		if err := is.UserSession.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-changed:
		}
	}
}

// The commands a test can stall (Server.Stall).

func (is *imapSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	is.srv.hold("SELECT")
	return is.UserSession.Select(mailbox, options)
}

func (is *imapSession) Status(mailbox string, options *imap.StatusOptions) (*imap.StatusData, error) {
	is.srv.hold("STATUS")
	return is.UserSession.Status(mailbox, options)
}

func (is *imapSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	is.srv.hold("FETCH")
	return is.UserSession.Fetch(w, numSet, options)
}

func (is *imapSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	is.srv.hold("SEARCH")
	return is.UserSession.Search(kind, criteria, options)
}

func (is *imapSession) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	is.srv.hold("LIST")
	return is.UserSession.List(w, ref, patterns, options)
}

func (is *imapSession) Create(mailbox string, options *imap.CreateOptions) error {
	is.srv.hold("CREATE")
	return is.UserSession.Create(mailbox, options)
}

// The commands that change a mailbox wake the sessions in IDLE.

func (is *imapSession) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	defer is.srv.changes.notify()
	return is.UserSession.Append(mailbox, r, options)
}

func (is *imapSession) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	defer is.srv.changes.notify()
	return is.UserSession.Copy(numSet, dest)
}

func (is *imapSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	is.srv.hold("MOVE")
	defer is.srv.changes.notify()
	return is.UserSession.Move(w, numSet, dest)
}

func (is *imapSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	defer is.srv.changes.notify()
	return is.UserSession.Expunge(w, uids)
}

func (is *imapSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	defer is.srv.changes.notify()
	return is.UserSession.Store(w, numSet, flags, options)
}

// user returns the user named addr (already lower-cased), creating it with
// an INBOX if it is new: imapmemserver does not create INBOX by itself. Its
// mailboxes are numbered from this start's UIDVALIDITY base.
func (s *Server) user(addr string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[addr]
	if u == nil {
		u = imapmemserver.NewUser(addr, "") // the password is never checked
		if err := seedUIDValidity(u, s.uidBase); err != nil {
			s.log.Error("dev mail server: mailboxes numbered from UIDVALIDITY 1, as at every start", "err", err)
		}
		_ = u.Create("INBOX", nil) // cannot fail on a new user
		s.users[addr] = u
	}
	return u
}

// deliver appends msg to the INBOX of addr (already lower-cased) and wakes
// the sessions in IDLE.
func (s *Server) deliver(addr string, msg []byte) error {
	u := s.user(s.mailboxOf(addr))
	_, err := u.Append("INBOX", bytes.NewReader(msg), &imap.AppendOptions{})
	if err != nil { // an IMAP client deleted or renamed INBOX
		_ = u.Create("INBOX", nil)
		_, err = u.Append("INBOX", bytes.NewReader(msg), &imap.AppendOptions{})
	}
	if err != nil {
		return fmt.Errorf("append to INBOX: %w", err)
	}
	s.changes.notify()
	return nil
}

// mailboxOf is the user whose INBOX mail to addr goes to: addr without the
// detail after the recipient delimiter (mentoring+TOKEN@ goes to mentoring@).
func (s *Server) mailboxOf(addr string) string {
	d := s.cfg.RecipientDelimiter
	local, domain, _ := strings.Cut(addr, "@") // addr passed parseAddr: it has an @
	if d == "" {
		return addr
	}
	if base, _, ok := strings.Cut(local, d); ok && base != "" {
		return base + "@" + domain
	}
	return addr
}

// Deliver puts the raw message msg, unchanged, into the INBOX of rcpt, as if
// it had arrived (tests use it to simulate a mentee's reply).
func (s *Server) Deliver(rcpt string, msg []byte) error {
	addr, err := parseAddr(rcpt)
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if err := s.deliver(addr, msg); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	s.log.Debug("dev mail server delivered", "rcpt", addr, "msgid", messageID(msg), "bytes", len(msg))
	return nil
}

// Mailbox returns the raw messages in folder of addr's mailbox, in UID order,
// without changing their flags. It reads them over IMAP like any client, so
// the server must be running. An address that never received mail has an
// empty INBOX; a folder that does not exist is an error.
func (s *Server) Mailbox(addr, folder string) ([][]byte, error) {
	user, err := parseAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	c, err := imapclient.DialInsecure(s.IMAPAddr(), nil)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	defer c.Close()
	if s.cfg.CheckToken != nil {
		err = c.Authenticate(sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: s.ownToken}))
	} else {
		err = c.Login(user, "devserver").Wait()
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox: login: %w", err)
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("mailbox: select %q: %w", folder, err)
	}
	if sel.NumMessages == 0 {
		return nil, c.Logout().Wait()
	}
	section := &imap.FetchItemBodySection{Peek: true}
	all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}} // 1:*
	bufs, err := c.Fetch(all, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("mailbox: fetch: %w", err)
	}
	slices.SortFunc(bufs, func(a, b *imapclient.FetchMessageBuffer) int { return cmp.Compare(a.UID, b.UID) })
	msgs := make([][]byte, len(bufs))
	for i, b := range bufs {
		msgs[i] = b.FindBodySection(section)
	}
	return msgs, c.Logout().Wait()
}
