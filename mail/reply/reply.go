// Package reply understands one received message: it tells a mentee's reply
// from an out-of-office notice, a bounce or a calendar answer, and finds what
// the sender typed and which numbered question each answer belongs to. It is
// pure (no I/O, no database), bounded in time and memory, and never panics.
//
// The flow for one message (Parse); package decode does the reading in steps
// 1, 2 and 4:
//  1. Read the header block (at most 64 KiB, RFC 5322 section 2.2) and decode
//     the fields mentord needs: RFC 2047 words, addresses, Message-IDs. From
//     is read strictly (one field, exactly one mailbox, decode.OneMailbox):
//     Header.From is the sender mentord believes, or "" with the reason.
//     Only the classification below reads it leniently.
//  2. Walk the MIME tree (RFC 2045/2046; depth 10, 100 parts): collect the
//     text/plain and text/html bodies, calendar parts, delivery-status reports
//     and embedded originals. Attachments and message/rfc822 parts are never
//     read as text.
//  3. Classify before reading any text, in this order: bounce (an RFC 3464
//     report, then the sender, X-Failed-Recipients, a null Return-Path with a
//     non-delivery subject), automatic reply (RFC 3834 Auto-Submitted other than
//     "no", Precedence, X-Autoreply and kin, localised subject prefixes),
//     calendar (an iTIP REPLY or COUNTER, RFC 5546), else reply. Bounces and
//     automatic replies stop here.
//  4. Choose the body: text/plain when it holds text, else the HTML rendered
//     to text, each client's quote container turned into '>' lines or a mark
//     where an unprefixed quote starts (Outlook, Zimbra). Decode transfer
//     encodings and charsets (WHATWG labels, windows-1252 fallback), undo
//     format=flowed (RFC 3676), normalise NBSP and line ends.
//  5. Mark the quote line by line: '>' prefixes, attributions in many
//     languages (joined over up to four wrapped lines), quoted header blocks,
//     "Original Message" separators and underscore rules. What follows an
//     unprefixed splitter is a soft quote.
//  6. Match the lines against what mentord sent (Options.Prompt), ignoring
//     prefixes, case, punctuation and wrapping: copies of the prompt are quote
//     wherever they are, and what lies between them in a soft quote was typed;
//     a soft quote that is not a copy of the prompt (mentord's
//     acknowledgement, an earlier reply) holds nothing typed.
//     Without a prompt, numbered lines in the quote stand for the questions.
//  7. Cut from each typed block what the sender did not type for this
//     message: a gateway banner above it; a signature after "-- ", a mobile
//     footer, a disclaimer, a contact block or a sign-off below it. Doubtful
//     lines stay: losing an answer is worse than keeping a "Regards".
//  8. Map answers: a block typed under a quoted question answers it; other
//     blocks are read for numbers opening a line ("1.", "2)", "Q3:", "#4",
//     "(5)", "6 -"), in any order, and for leads naming a number out of
//     turn ("Forgot 3:", "Zu 4:"), each answer running to the next. With the
//     prompt known and no number anywhere, paragraphs led by a question's
//     topic, or exactly one paragraph per question in order, answer them.
//     Result.Ties says how each answer was tied. A reply that only quotes
//     gets no text and no answers; a plain reply without a quote that reads
//     like an out-of-office notice is taken for one.
//
// Decoding and understanding are two packages because the code's own calls
// fall that way: the decoding functions call only each other, and this
// package calls into them at a few points (decode.SplitHeader, decode.Walk
// and Tree.BodyText in Parse; the field readers in buildHeader, classify and
// the bounce report; decode.ICalMethod for a calendar part without a method
// parameter; decode.NormalizeText for the prompt; decode.QuoteStart where the
// quote is marked). Nothing in decode needs to know what mentord
// sent or what a reply means. What a message is understood to be (Header,
// Bounce, CalendarPart, Result) is defined here; reading a bounce report
// stays here too, as it is part of classifying and half of it reads the
// bounce's prose.
package reply

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mentord/mentord/mail/reply/decode"
)

// Kind is what a received message is.
type Kind string

// The kinds of message.
const (
	KindReply     Kind = "reply"
	KindAutoReply Kind = "auto_reply"
	KindBounce    Kind = "bounce"
	KindCalendar  Kind = "calendar"
	KindOther     Kind = "other"
)

// DefaultMaxBytes is the largest message Parse reads when Options.MaxBytes is 0.
const DefaultMaxBytes = 10 << 20

// Errors for input that is not a message at all.
var (
	ErrEmpty    = errors.New("reply: empty message")
	ErrNoHeader = errors.New("reply: no header block")
	ErrTooLarge = errors.New("reply: message too large")
	errInternal = errors.New("reply: internal error")
)

// Question is one numbered question mentord asked.
type Question struct {
	Number int
	Text   string
}

// Prompt is what mentord sent, when the message could be tied to it (by token
// or In-Reply-To): the exact numbered questions and the exact text/plain body.
// nil when unknown (mentord inspect on a bare file).
type Prompt struct {
	Questions []Question
	Body      string
}

// Options tune Parse.
type Options struct {
	Prompt *Prompt
	// Names are other names mentord knows for the sender (the roster's name
	// for the person the prompt went to), beside From's display name: a
	// line that is one of them ends the text as a signature, in any script.
	Names    []string
	MaxBytes int64 // default DefaultMaxBytes
}

// Header holds the header fields mentord uses, decoded.
type Header struct {
	// From is the one mailbox of the From field (RFC 5322 section 3.6.2), read
	// strictly: the bare address, lower-cased. It is "" when the field is not
	// exactly one mailbox, and FromProblem says why; a message's sender is
	// never guessed.
	From          string
	FromName      string
	FromProblem   string // "From is missing", "From is given more than once (2 times)", ...; "" when From is one mailbox
	FromField     string // the From field(s) as written (controls dropped, at most 256 bytes), for the record
	To            []string
	Cc            []string
	DeliveredTo   []string // Delivered-To and X-Original-To
	Subject       string   // RFC 2047 decoded
	MessageID     string
	InReplyTo     []string
	References    []string // ids without <>
	Date          time.Time
	ReturnPath    string   // bare address; "" when absent or null (<>)
	AuthResults   []string // raw Authentication-Results values
	AutoSubmitted string
}

// buildHeader decodes the fields mentord uses.
func buildHeader(fs []decode.Field) Header {
	var h Header
	from := decode.All(fs, "from")
	if addr, name, err := decode.OneMailbox(from); err != nil {
		h.FromProblem = "From is " + err.Error()
	} else {
		h.From, h.FromName = addr, name
	}
	h.FromField = asWritten(from)
	h.To = decode.Addresses(decode.All(fs, "to"))
	h.Cc = decode.Addresses(decode.All(fs, "cc"))
	h.DeliveredTo = decode.Addresses(append(decode.All(fs, "delivered-to"), decode.All(fs, "x-original-to")...))
	h.Subject = strings.Join(strings.Fields(decode.HeaderText(decode.Get(fs, "subject"))), " ")
	if ids := decode.MessageIDs(decode.Get(fs, "message-id")); len(ids) > 0 {
		h.MessageID = ids[0]
	}
	h.InReplyTo = decode.MessageIDs(decode.Get(fs, "in-reply-to"))
	h.References = decode.MessageIDs(strings.Join(decode.All(fs, "references"), " "))
	h.Date = decode.Date(decode.Get(fs, "date"))
	if rp := decode.Get(fs, "return-path"); rp != "" {
		h.ReturnPath = decode.Address(rp)
	}
	h.AuthResults = decode.All(fs, "authentication-results")
	h.AutoSubmitted = decode.Get(fs, "auto-submitted")
	return h
}

// asWritten joins field values for the record: control characters dropped,
// at most 256 bytes, cut at a character boundary.
func asWritten(vs []string) string {
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return -1
		}
		return r
	}, strings.ToValidUTF8(strings.Join(vs, " | "), "\uFFFD"))
	if len(s) > 256 {
		s = s[:256]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// Bounce is what a delivery status notification reports (RFC 3464).
type Bounce struct {
	Recipients        []BounceRecipient
	OriginalMessageID string
	OriginalTo        string
	Permanent         bool
}

// BounceRecipient is one per-recipient block of a DSN: Address is its
// Final-Recipient (else its Original-Recipient), Original its
// Original-Recipient, the address the message was sent to before any
// forwarding (RFC 3464 section 2.3.1), "" when not given.
type BounceRecipient struct {
	Address, Original, Action, Status, Diagnostic string
}

// CalendarPart is one text/calendar or application/ics part.
type CalendarPart struct {
	Method string // Content-Type method= param, upper-case, may be ""
	Data   []byte
}

// calendarParts copies the calendar parts the MIME walk found into the
// Result; nil when there are none.
func calendarParts(ps []decode.CalendarPart) []CalendarPart {
	if len(ps) == 0 {
		return nil
	}
	out := make([]CalendarPart, len(ps))
	for i, p := range ps {
		out[i] = CalendarPart(p)
	}
	return out
}

// Result is what Parse understood.
type Result struct {
	Kind     Kind
	Header   Header
	NewText  string         // what the sender typed in this message: no quote, attribution, signature, footer, disclaimer
	Answers  map[int]string // question number -> answer; only answered questions; never from the quote
	Ties     map[int]Tie    // question number -> how its answer was tied to it; the same keys as Answers
	Bounce   *Bounce        // Kind == KindBounce
	Calendar []CalendarPart // every text/calendar or application/ics part
	Reason   string         // why an auto_reply/bounce/other/calendar was classified so
}

// Parse understands one raw RFC 5322 message. It returns an error only for
// input that is not a message at all: empty, without a header block, or over
// Options.MaxBytes.
func Parse(raw []byte, opts Options) (*Result, error) {
	return parse(raw, opts, false)
}

// parse is Parse; htmlFirst reads the HTML body even when there is text/plain
// (tests use it to check both renderings agree).
func parse(raw []byte, opts Options, htmlFirst bool) (res *Result, err error) {
	max := opts.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if int64(len(raw)) > max {
		return nil, ErrTooLarge
	}
	if isBlank(raw) {
		return nil, ErrEmpty
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%w: %v", errInternal, r)
		}
	}()
	fields, body, ok := decode.SplitHeader(raw)
	if !ok || len(fields) == 0 {
		return nil, ErrNoHeader
	}
	m := &message{fields: fields}
	m.tree = decode.Walk(fields, body)
	m.from, m.fromName = decode.Mailbox(decode.Get(fields, "from"))
	res = &Result{Header: buildHeader(fields)}
	res.Calendar = calendarParts(m.tree.Calendar)
	classify(m, res)
	if res.Kind == KindReply || res.Kind == KindCalendar {
		u := understand(m.tree.BodyText(htmlFirst), opts.Prompt, &names{name: m.fromName, addr: m.from, known: opts.Names})
		if res.Kind == KindReply && isOutOfOffice(&res.Header, u) {
			res.Kind, res.Reason = KindAutoReply, "out-of-office text without a quote"
			return res, nil
		}
		res.NewText, res.Answers, res.Ties = u.newText, u.answers, u.ties
	}
	return res, nil
}

// message is one message being understood.
type message struct {
	fields []decode.Field
	tree   *decode.Tree
	// from and fromName are a lenient reading of From (decode.Mailbox), for
	// telling what kind of message it is and the sender's name in a
	// signature, never for who sent it (that is Header.From).
	from, fromName string
}

func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}
