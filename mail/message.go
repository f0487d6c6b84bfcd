// Package mail is mentord's outgoing message model: it builds the exact bytes
// of every message, names them, and makes the reply tokens. It does no I/O.
//
// The flow for one message:
//  1. MessageID derives the Message-ID from the message's idempotency key, so a
//     resend after a crash carries the same id and is recognised as the same
//     message by clients and by mentord itself (RFC 5322 section 3.6.4).
//  2. NewToken draws 128 random bits; ReplyAddress puts the token into the
//     programme address (mentoring+TOKEN@example.org) for Reply-To. Only
//     HashToken's digest is stored.
//  3. Message.Bytes renders the message through go-mail: text and HTML as
//     multipart/alternative, and for invites the iMIP part (text/calendar with
//     method=, RFC 6047 section 2.4) plus the same bytes as an .ics attachment,
//     with Auto-Submitted: auto-generated (RFC 3834 section 5) and
//     X-Auto-Response-Suppress so that no vacation responder answers; and any
//     attachments (the record for promotion, a PDF).
package mail

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// ErrHeaderInjection is returned for a header value holding a line break.
var ErrHeaderInjection = errors.New("header value contains a line break")

// ErrUnmailable is wrapped by every error about a name or an address that no
// message can carry (CheckName, CheckAddress): building it again fails
// again, so the caller need not retry.
var ErrUnmailable = errors.New("cannot be put in a message")

// Address is a named mailbox.
type Address struct {
	Name  string
	Email string
}

// Calendar is an iMIP part: the METHOD and the iCalendar bytes.
type Calendar struct {
	Method string // REQUEST or CANCEL; also written as the Content-Type's method=
	Data   []byte
}

// Message is one outgoing email to one recipient.
type Message struct {
	From       Address
	To         Address
	ReplyTo    string // address carrying the reply token
	Subject    string
	Date       time.Time
	MessageID  string   // without angle brackets
	InReplyTo  string   // without angle brackets
	References []string // without angle brackets
	Text       string
	HTML       string
	Calendar   *Calendar
	// Attachments go after the body (and the invite) as files (base64): a
	// mentee's log as Markdown, the record for promotion's PDF.
	Attachments []Attachment
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string // a plain file name
	ContentType string // e.g. text/markdown; charset=UTF-8
	Data        []byte
}

// Bytes renders the message as RFC 5322 bytes with CRLF line ends.
func (m *Message) Bytes() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	from, err := addressField(m.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	to, err := addressField(m.To)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	// The address fields are written whole (addressField); go-mail folds them.
	msg.SetGenHeader(gomail.Header(gomail.HeaderFrom), from)
	msg.SetGenHeader(gomail.Header(gomail.HeaderTo), to)
	if m.ReplyTo != "" {
		replyTo, err := addressField(Address{Name: m.From.Name, Email: m.ReplyTo})
		if err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
		msg.SetGenHeader(gomail.Header(gomail.HeaderReplyTo), replyTo)
	}
	msg.Subject(headerText(m.Subject))
	msg.SetDateWithValue(m.Date)
	msg.SetMessageIDWithValue(m.MessageID)
	if m.InReplyTo != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+m.InReplyTo+">")
	}
	if len(m.References) > 0 {
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+strings.Join(m.References, "> <")+">")
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetUserAgent("mentord")

	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if c := m.Calendar; c != nil {
		ct := gomail.ContentType("text/calendar; method=" + c.Method)
		msg.AddAlternativeString(ct, string(c.Data), gomail.WithPartEncoding(gomail.EncodingB64))
		if err := msg.AttachReader("invite.ics", bytes.NewReader(c.Data),
			gomail.WithFileContentType("application/ics"), gomail.WithFileEncoding(gomail.EncodingB64)); err != nil {
			return nil, fmt.Errorf("attach invite.ics: %w", err)
		}
	}
	for _, a := range m.Attachments {
		if err := CheckHeader(a.Name + a.ContentType); err != nil || strings.ContainsAny(a.Name, "/\\\"") {
			return nil, fmt.Errorf("attachment %q: not a plain file name", a.Name)
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType)),
			gomail.WithFileEncoding(gomail.EncodingB64)); err != nil {
			return nil, fmt.Errorf("attach %s: %w", a.Name, err)
		}
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render message: %w", err)
	}
	return buf.Bytes(), nil
}

func (m *Message) check() error {
	for name, v := range map[string]string{
		"from name": m.From.Name, "from": m.From.Email, "to name": m.To.Name, "to": m.To.Email,
		"reply-to": m.ReplyTo, "subject": m.Subject, "message-id": m.MessageID, "in-reply-to": m.InReplyTo,
	} {
		if err := CheckHeader(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, r := range m.References {
		if err := CheckHeader(r); err != nil {
			return fmt.Errorf("references: %w", err)
		}
	}
	if m.MessageID == "" || m.Date.IsZero() || m.To.Email == "" || m.From.Email == "" {
		return errors.New("message needs From, To, Date and Message-ID")
	}
	if c := m.Calendar; c != nil && c.Method != "REQUEST" && c.Method != "CANCEL" && c.Method != "DECLINECOUNTER" {
		return fmt.Errorf("calendar method %q: only REQUEST, CANCEL and DECLINECOUNTER are sent", c.Method)
	}
	return nil
}

// CheckHeader rejects a header value with a line break or NUL, which would let
// user data (a name, a subject) add headers of its own.
func CheckHeader(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return ErrHeaderInjection
	}
	return nil
}

// MessageID derives the Message-ID (without angle brackets) of the message
// with the given idempotency key, at the programme's domain. instance, the
// database's own random id, keeps two installations (or a database started
// afresh) from minting the same id for different messages.
func MessageID(instance, key, domain string) string {
	sum := sha256.Sum256([]byte(instance + "\x00" + key))
	return "mentord." + hex.EncodeToString(sum[:16]) + "@" + domain
}

// Domain returns the domain part of an address.
func Domain(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// tokenEncoding writes tokens in lower-case base32: safe in a local part,
// case-insensitive as some servers fold local parts.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// TokenLen is the length of a reply token: 128 bits in base32.
const TokenLen = 26

// NewToken returns a fresh reply token of 128 bits from crypto/rand.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return tokenEncoding.EncodeToString(b[:])
}

// HashToken is what the database keeps of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(token)))
	return hex.EncodeToString(sum[:])
}

// ReplyAddress puts token into the mailbox address with the plus delimiter
// ("mentoring+TOKEN@example.org"). With no delimiter ("none"), it returns the
// mailbox itself: replies are then matched by In-Reply-To and References.
func ReplyAddress(mailbox, delim, token string) string {
	if delim == "" || delim == "none" || token == "" {
		return mailbox
	}
	at := strings.LastIndexByte(mailbox, '@')
	return mailbox[:at] + delim + token + mailbox[at:]
}

// TokenFrom returns the token in addr when addr is the mailbox with a token in
// the plus-address form; the comparison of the rest is case-insensitive.
func TokenFrom(addr, mailbox, delim string) (string, bool) {
	if delim == "" || delim == "none" {
		return "", false
	}
	a, err := netmail.ParseAddress(addr)
	if err == nil {
		addr = a.Address
	}
	at, mat := strings.LastIndexByte(addr, '@'), strings.LastIndexByte(mailbox, '@')
	if at < 0 || mat < 0 || !strings.EqualFold(addr[at:], mailbox[mat:]) {
		return "", false
	}
	local, base := addr[:at], mailbox[:mat]
	prefix := base + delim
	if len(local) <= len(prefix) || !strings.EqualFold(local[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.ToLower(local[len(prefix):])
	if len(tok) != TokenLen {
		return "", false
	}
	if _, err := tokenEncoding.DecodeString(tok); err != nil {
		return "", false
	}
	return tok, true
}

// BounceAddress is the envelope sender (Return-Path) of a message: a VERP
// address naming the message, so a bounce can be tied to it (RFC 3464 DSNs go
// to the return path). Without plus-addressing it is the mailbox itself and
// bounces are matched by the original Message-ID inside the DSN.
func BounceAddress(mailbox, delim, messageID string) string {
	if delim == "" || delim == "none" {
		return mailbox
	}
	sum := sha256.Sum256([]byte(messageID))
	at := strings.LastIndexByte(mailbox, '@')
	return mailbox[:at] + delim + "bounce-" + hex.EncodeToString(sum[:10]) + mailbox[at:]
}
