// Package intent reads what a person asks for in their own words, in English
// and Danish: a request (pause, resume, move a session, send me my log, stop
// taking part), a written decline, a yes or a no to a question mentord asked,
// and a date and time (when.go). It is pure: the text the reply parser left
// (no quote, no signature) comes in, what it says comes out; what to do about
// it is daemon/converse's.
//
// The flow of Read:
//  1. Normalise: lower case, typographic apostrophes and dashes made plain,
//     white space collapsed, line by line.
//  2. Look for each request's phrasings (not single keywords: "stop" alone is
//     not a request to leave the programme), skipping a phrase negated just
//     before it ("I don't want to stop").
//  3. Read the first words for a yes or a no, and the whole for a written
//     decline and for questions (a line ending in "?").
package intent

import (
	"regexp"
	"strings"
	"sync"
)

// Request is something a person can ask mentord for by replying.
type Request string

// The requests.
const (
	Pause  Request = "pause"
	Resume Request = "resume"
	Move   Request = "move"
	Log    Request = "log"
	Stop   Request = "stop"
)

// Answer is a yes or a no to a question mentord asked.
type Answer string

// The answers.
const (
	Yes Answer = "yes"
	No  Answer = "no"
)

// Reading is what a text asks for.
type Reading struct {
	Requests []Request // each at most once, in the order they first appear
	Answer   Answer    // "" when the text opens with neither a yes nor a no
	Declines bool      // "I can't make it", "jeg kan desværre ikke"
	Question bool      // the text asks something (a line ending in "?")
	Danish   bool      // Danish words were recognised
}

// Has reports whether r asks for q.
func (r Reading) Has(q Request) bool {
	for _, x := range r.Requests {
		if x == q {
			return true
		}
	}
	return false
}

// phrase is one way of asking for a request.
type phrase struct {
	req    Request
	danish bool
	re     *regexp.Regexp
}

func p(req Request, danish bool, expr string) phrase {
	return phrase{req, danish, regexp.MustCompile(`(?:^|[^\pL\pN])(?:` + expr + `)(?:$|[^\pL\pN])`)}
}

// phrases are the words people use, gathered from how staff write to a
// programme office; each is a whole phrase, not a keyword. They are
// compiled on first use: every command links this package, few read mail.
var phrases = sync.OnceValue(func() []phrase {
	return []phrase{
		p(Pause, false, `pause|put (?:\pL+ ){0,3}on hold|on hold|take a (?:short |little |longer )?break|hold off (?:on |with )?|suspend|(?:parental|maternity|paternity|sick|study|long[- ]term) leave|on leave|away until|be away (?:from|until|till)`),
		p(Pause, true, `pause|pausere|sæt(?:te)? (?:\pL+ ){0,3}på pause|hold(?:e)? (?:en )?pause|på (?:barsel|barselsorlov|orlov|forældreorlov)|barselsorlov|forældreorlov|orlov|sygemeldt|være væk (?:fra|til|indtil)`),
		p(Resume, false, `resume|start (?:again|up again|back)|pick (?:it |things |this )?(?:back )?up again|back from (?:my |parental |maternity |paternity |sick )?leave|i'?m back|i am back|unpause|continue (?:the |my |our )?mentoring|restart (?:the |my |our )?mentoring|ready to (?:continue|start again)`),
		p(Resume, true, `genoptag(?:e)?|start(?:e)? (?:op )?igen|komme i gang igen|i gang igen|tilbage fra (?:min |mit )?(?:barsel|barselsorlov|orlov|sygemelding)|jeg er tilbage|fortsætte (?:vores |mit |forløbet)?`),
		p(Move, false, `move|moving|reschedule|re-schedule|postpone|push (?:it |the session |our session |the meeting )?(?:back|forward)|bring (?:it )?forward|another (?:time|day|date)|different (?:time|day|date)|(?:can|could|shall) we (?:do|meet|make it|have it|say)|would (?:\pL+ ){0,2}(?:work|suit) (?:instead|better)|instead|change the (?:time|date|day)|new time|propose`),
		p(Move, true, `flyt(?:te)?|ryk(?:ke)?|udskyd(?:e)?|en anden (?:dag|tid|dato)|et andet tidspunkt|(?:kan|kunne) vi (?:tage|mødes|gøre|sige|ses)|i stedet|ændre (?:tidspunktet|datoen|dagen)|nyt tidspunkt|foreslå`),
		p(Log, false, `send me (?:my|a copy|what i|everything|all (?:i|that i))|copy of (?:my|what i|everything)|what i(?:'ve| have)? (?:wrote|written|said|answered) (?:so far|until now|before)|(?:see|get|have|receive) (?:a copy of )?my (?:log|progress log|notes|answers|reflections|plans)|my progress log`),
		p(Log, true, `send (?:mig|venligst) (?:\pL+ ){0,2}(?:min|mine|hvad|en kopi)|kopi af (?:min|mine|hvad)|hvad jeg har skrevet|min (?:log|logbog|fremskridtslog)|(?:se|få) mine (?:svar|noter|refleksioner|planer)`),
		p(Stop, false, `stop (?:taking part|participating|my mentoring|our mentoring|the mentoring|being (?:a )?(?:mentor|mentee)|the programme|the program)|withdraw(?: from)?|leave the (?:programme|program|scheme|mentoring)|drop out|quit (?:the )?(?:programme|program|mentoring)|no longer (?:take part|participate|want to (?:take part|participate|continue|be))|opt out|unsubscribe|end (?:my|our|the) mentoring`),
		p(Stop, true, `stoppe (?:i|med|mit|vores) (?:programmet|forløbet|mentorforløbet|mentorordningen|mentoring)|stop(?:pe)? (?:mit|vores) (?:mentorforløb|forløb)|melde mig ud|udmelde mig|trække mig(?: ud)?|træde ud|ikke længere (?:deltage|være med)|afmelde mig|afslutte (?:mit|vores) (?:forløb|mentorforløb)`),
	}
})

// negated: a phrase right after these words is not asked for.
var negated = regexp.MustCompile(`(?:don'?t|do not|doesn'?t|not|never|no need to|ikke|aldrig|ingen grund til at)(?: \pL+){0,3} ?$`)

var (
	yesRe = regexp.MustCompile(`^(?:yes|yep|yeah|yup|sure|ok|okay|fine|fine by me|sounds good|that works|works for me|perfect|great|agreed|accept(?:ed)?|of course|certainly|ja|jo|javel|gerne|fint|det er fint|det passer(?: fint| godt)?|det går|super|perfekt|selvfølgelig|accepter(?:er)?|godt)(?:$|[^\pL\pN])`)
	noRe  = regexp.MustCompile(`^(?:no|nope|not really|sorry,? no|that doesn'?t work|doesn'?t work|that does not work|i can'?t|i cannot|decline|nej|desværre ikke|det passer ikke|det går ikke|jeg kan ikke|kan ikke)(?:$|[^\pL\pN])`)
	// declines are written refusals of a session ("I can't make it").
	declineRe = regexp.MustCompile(`(?:can'?t|cannot|won'?t be able to|will not be able to|unable to|not able to) (?:make|attend|come|join|do|be there)|(?:^|[^\pL])(?:decline|not available|unavailable)(?:$|[^\pL])|kan (?:desværre )?ikke (?:komme|deltage|nå|være med)|har ikke mulighed|melde(?:r)? afbud|afbud|forhindret`)
	danishRe  = regexp.MustCompile(`(?:^|[^\pL])(?:jeg|ikke|kan|vi|det|hej|tak|mig|og|på|til|med|venlig|hilsen|gerne|også|være|har)(?:$|[^\pL])`)
)

// normalise lower-cases text and makes apostrophes, dashes and spaces plain.
func normalise(text string) string {
	r := strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u00a0", " ", "\u2013", "-", "\u2014", "-")
	return strings.ToLower(r.Replace(text))
}

// Read reads what text (a message's own words, quote and signature cut)
// asks for.
func Read(text string) Reading {
	var r Reading
	t := normalise(text)
	lines := strings.Split(t, "\n")
	first := ""
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			continue
		}
		if first == "" {
			first = l
		}
		if strings.HasSuffix(l, "?") {
			r.Question = true
		}
	}
	flat := strings.Join(strings.Fields(t), " ")
	r.Danish = len(danishRe.FindAllString(flat, 3)) >= 2
	type hit struct {
		req Request
		at  int
	}
	var hits []hit
	for _, ph := range phrases() {
		for _, loc := range ph.re.FindAllStringIndex(flat, -1) {
			if negated.MatchString(flat[:loc[0]]) {
				continue
			}
			hits = append(hits, hit{ph.req, loc[0]})
			break
		}
	}
	for len(hits) > 0 { // in order of appearance, each once
		best := 0
		for i, h := range hits {
			if h.at < hits[best].at {
				best = i
			}
		}
		if !r.Has(hits[best].req) {
			r.Requests = append(r.Requests, hits[best].req)
		}
		hits = append(hits[:best], hits[best+1:]...)
	}
	first = strings.TrimLeft(first, " -*>")
	switch {
	case noRe.MatchString(first):
		r.Answer = No
	case yesRe.MatchString(first):
		r.Answer = Yes
	}
	r.Declines = declineRe.MatchString(flat)
	return r
}
