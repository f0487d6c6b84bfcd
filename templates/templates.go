// Package templates holds the wording of every message mentord sends, in each
// language, as text and HTML, and renders it.
//
// The flow:
//  1. Load reads the embedded files (en/, da/, shared/), replaces any of them
//     with the same path from an override directory, and parses them all: the
//     question catalogue (questions.yaml) and one text/template and one
//     html/template set per kind and language, with missingkey=error.
//  2. Load then renders every kind in every language with sample data, so a
//     template that names a missing field stops the daemon at start-up, before
//     it sends anything. Every error names its file and line.
//  3. The daemon asks Questions for the numbered questions of a checklist or a
//     reflection, stores them with the outgoing message, and passes them in
//     Data.Questions; the reply parser later matches answers against exactly
//     those texts.
//  4. Render executes the kind's templates for Data.Lang, within a time and
//     a size bound (a looping override fails with ErrRunaway instead of
//     holding its caller), and normalises the result: Subject and Summary on one line, text bodies without trailing
//     blanks, runs of blank lines collapsed, and prose wrapped at 72 columns
//     (numbered question lines are never wrapped).
//
// Each language directory holds questions.yaml, partials.txt.tmpl and
// partials.html.tmpl, and for every Kind a <kind>.txt.tmpl (defining subject
// and text, plus summary and description for invite, update and cancel) and a
// <kind>.html.tmpl (defining html). An override directory uses the same paths,
// e.g. <dir>/da/checklist.txt.tmpl; a file there with no embedded counterpart
// is an error.
//
// Templates see Data and its methods (Other, ToMentor). Date functions follow
// the language: longDate, shortDate, short, clock, when, genitive and ordinal; indent,
// lines and isURL are the same in every language.
package templates

import (
	"errors"
	"strings"
	"time"
)

// Kind is the kind of message mentord sends.
type Kind string

// The message kinds.
const (
	Invite     Kind = "invite"     // calendar invitation to mentor and mentee
	Update     Kind = "update"     // the session moved or its details changed
	Cancel     Kind = "cancel"     // the session is cancelled
	Checklist  Kind = "checklist"  // planning questions to the mentee before a session
	Reflection Kind = "reflection" // reflection questions to the mentee after a session
	Nudge      Kind = "nudge"      // one reminder when a checklist or reflection got no answer
	Brief      Kind = "brief"      // the mentee's plan for the mentor, the day before
	Ack        Kind = "ack"        // to the mentee: what was recorded from their reply, and how to correct it
	Declined   Kind = "declined"   // to the other participant and the admin: one of them declined (or delegated) the session
	Counter    Kind = "counter"    // to the other participant or the admin: one of them proposed another time
	Notice     Kind = "notice"     // to the admin: something needs a person (an address bounces, ...)
	Digest     Kind = "digest"     // to the mentee before the final session: their year in review
	TalkKind   Kind = "talk"       // the conversation: answers to what a participant wrote (talk.go)
	Record     Kind = "record"     // to the mentor and the mentee when the pair completes: the record for promotion (a PDF)
)

// Kinds lists every kind, in the order a session meets them.
var Kinds = []Kind{Invite, Update, Cancel, Checklist, Reflection, Nudge, Brief, Ack, Declined, Counter, Notice, Digest, TalkKind, Record}

// Calendar reports whether messages of kind k carry an iCalendar event and so
// render Summary and Description.
func (k Kind) Calendar() bool { return k == Invite || k == Update || k == Cancel }

// Document reports whether messages of kind k carry a one-page document (a
// PDF made from Rendered.Document).
func (k Kind) Document() bool { return k == Record }

// asks reports whether messages of kind k ask numbered questions.
func (k Kind) asks() bool { return k == Checklist || k == Reflection || k == Nudge }

// The session kinds, as daemon/schedule names them.
const (
	SessionChemistry = "chemistry" // the first meeting: getting to know each other, the agreement
	SessionRegular   = "regular"
	SessionReview    = "review" // also reviews the relationship
	SessionFinal     = "final"  // also evaluates the programme
)

// SessionKinds lists the session kinds.
var SessionKinds = []string{SessionChemistry, SessionRegular, SessionReview, SessionFinal}

// Errors Render returns for input it cannot render; they wrap the details.
var (
	ErrKind     = errors.New("unknown message kind")
	ErrLanguage = errors.New("unknown language")
	ErrData     = errors.New("invalid message data")
	// ErrRunaway: the templates took too long or wrote too much (a loop).
	ErrRunaway = errors.New("the template ran away")
)

// Person is someone mentord writes to or about.
type Person struct{ Name, Email string }

// Session is one meeting of a pair.
type Session struct {
	Number, Count int       // "session 3 of 12": its number for life, of the pair's highest
	Cancelled     []int     // the numbers of the pair's other sessions that were cancelled, in order
	Kind          string    // chemistry, regular, review, final
	Start, End    time.Time // in the recipient's own zone; printed as given
	Zone          string    // IANA name of that zone, e.g. Europe/Copenhagen
	Location      string    // a room or a video link
	Minutes       int
}

// Question is one numbered question as it is asked. Key names it the same in
// every language (for the progress log); templates print Number and Text.
type Question struct {
	Number int    `json:"number"`
	Text   string `json:"text"`
	Key    string `json:"key"`
}

// Without returns qs without the question with key, numbered again from 1.
func Without(qs []Question, key string) []Question {
	var out []Question
	for _, q := range qs {
		if q.Key != key {
			q.Number = len(out) + 1
			out = append(out, q)
		}
	}
	return out
}

// Answer is the mentee's answer to one numbered question, with the question's
// text as it was asked.
type Answer struct {
	Number         int
	Question, Text string
	// Tied is how the answer was read from the reply when it had no
	// number: TiedTopic or TiedOrder (the acknowledgement says so); "" when
	// it was numbered or typed under the question.
	Tied string
}

// How an answer without a number was tied to its question (Answer.Tied).
const (
	TiedTopic = "topic" // a paragraph led by the question's topic
	TiedOrder = "order" // one paragraph per question, in order: paragraph N answers question N
)

// Agreement is what mentor and mentee settled at the chemistry meeting.
type Agreement struct {
	Objectives, Cadence, Location, Contact, Progress string
	ReviewEvery, Minutes                             int
}

// Data is everything a message may say.
type Data struct {
	Lang         string // en or da
	Programme    string // programme name
	Organisation string
	Mailbox      string // programme address, for "write to us"
	Recipient    Person // who gets this message
	Mentor       Person
	Mentee       Person
	Session      Session
	Agreement    Agreement
	Questions    []Question // checklist, reflection, nudge: the numbered questions asked
	Promises     []string   // checklist: what the mentee promised last time, quoted back
	Themes       []string   // checklist: the guide's themes, as prompts for the topics question (TopicsNumber)
	Agenda       []Answer   // brief: the mentee's planning answers (empty: no plan yet)
	NudgeOf      Kind       // nudge: Checklist or Reflection
	Previous     *Session   // update: the session before it moved (nil: other details changed)
	// MentorSeesPlan: the mentor gets the mentee's planning answers before the
	// session (mentor briefs are on for the programme and the pair).
	MentorSeesPlan bool
	// Ack: what was recorded from the mentee's reply. Agenda holds the
	// answers by question; Reply the text when it answered no numbered question.
	Reply    string
	AckOf    Kind     // ack: Checklist or Reflection
	Comment  string   // declined, counter: the comment the calendar of the one who answered sent
	Proposed *Session // counter: the time proposed
	Proposer Person   // counter: who proposed it (the mentor or the mentee)
	// Declined: who declined the session (or passed it on: Delegated), and
	// what the recipient gets before a session that now waits: Held is
	// Checklist (the mentee) or Brief (the mentor), empty when nothing;
	// HeldSent says it went already (then only its reminder waits).
	Decliner  Person
	Delegated bool
	Held      Kind
	HeldSent  bool
	// AdminMail: the programme team gets mentord's notices by mail
	// (programme.admin_email), so a notice may say the team has been told.
	AdminMail bool
	// Removed (cancel): the recipient was taken off a session that goes
	// ahead without them (a mentor replaced); Mentor is then the recipient.
	Removed  bool
	Ref      Ref             // to the admin: the ids the admin's commands take
	Notice   *AdminNotice    // notice: what the admin should know
	Review   []ReviewSession // digest: the mentee's own log, session by session
	Talk     *Talk           // talk: what mentord answers (talk.go)
	CheckIns []CheckIn       // brief: the mentee's check-ins since the last session, when they share their plans
	Facts    *Facts          // record: what the record for promotion states
}

// Facts is what the record for promotion states: the pair's dates and
// counts from the roster, never a word from either person's log. The
// recipient's role is ToMentor's.
type Facts struct {
	First, Last   time.Time // the first and the last session held, in the recipient's zone
	Held, Planned int       // sessions held; sessions planned in all (held, declined or to come, not cancelled)
	Minutes       int       // the sessions held, added up
	Made          time.Time // when the record was made, in the recipient's zone
}

// ReviewSession is one past session in the year in review: what the mentee
// planned, what they took away, and what they promised.
type ReviewSession struct {
	Session    Session
	Plan       []Answer
	Reflection []Answer
	Promises   []Promise
}

// Promise is something the mentee promised to do, with whether it got done:
// open, done, not_done or dropped.
type Promise struct {
	Text, Status string
}

// AdminNotice is a message to the programme admin.
type AdminNotice struct {
	Title string   // one line: the subject
	Lines []string // what happened and what to do, a paragraph each
}

// TopicsNumber is the number of the topics question among Questions, 0
// when it is not asked.
func (d Data) TopicsNumber() int {
	for _, q := range d.Questions {
		if q.Key == "topics" {
			return q.Number
		}
	}
	return 0
}

// Placed reports whether any answer in Agenda was read without a number
// (by its topic or its order), for the acknowledgement to say how to
// correct it.
func (d Data) Placed() bool {
	for _, a := range d.Agenda {
		if a.Tied == TiedTopic || a.Tied == TiedOrder {
			return true
		}
	}
	return false
}

// Ref is how the admin's commands name a session: its pair and its id.
type Ref struct {
	Pair, Session int64
	Move          string // counter: the proposed time as session move takes it (local to the pair's zone)
}

// ToMentee reports whether the recipient is the mentee (by address).
func (d Data) ToMentee() bool {
	return d.Recipient.Email != "" && strings.EqualFold(strings.TrimSpace(d.Recipient.Email), strings.TrimSpace(d.Mentee.Email))
}

// ToParticipant reports whether the recipient is the mentor or the mentee,
// not the programme team: a message to a participant never shows an admin's
// command.
func (d Data) ToParticipant() bool { return d.ToMentor() || d.ToMentee() }

// ToMentor reports whether the recipient is the mentor (by address, else by name).
func (d Data) ToMentor() bool {
	if d.Recipient.Email != "" || d.Mentor.Email != "" {
		return strings.EqualFold(strings.TrimSpace(d.Recipient.Email), strings.TrimSpace(d.Mentor.Email))
	}
	return d.Recipient.Name == d.Mentor.Name
}

// Other is the other person of the pair: the mentee for the mentor, else the mentor.
func (d Data) Other() Person {
	if d.ToMentor() {
		return d.Mentee
	}
	return d.Mentor
}

// Rendered is one message, ready to be put in a MIME message and an invite.
type Rendered struct {
	Subject     string // one line
	Text        string // text/plain body
	HTML        string // text/html body: a complete small document, inline CSS
	Summary     string // invite, update, cancel: the event's SUMMARY, one line
	Description string // invite, update, cancel: the event's DESCRIPTION, plain text
	// Document (record): the one-page document in package pdf's text form,
	// not wrapped: "# " title, "## " subtitle, "- Label: value" rows,
	// prose, "> " small print.
	Document string
}
