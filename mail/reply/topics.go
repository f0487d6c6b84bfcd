package reply

import (
	"strings"
	"unicode"
)

// Prose answers: many people answer a list of questions in paragraphs, in
// order, without numbers, or with the topic as a lead ("About blockers: ...",
// "Support: ..."). When the prompt is known and nothing in the reply has a
// number or stands under a quoted question, a paragraph is tied to a question
// where a careful reader would tie it:
//   - its lead (the words before a colon or dash, or a short heading line)
//     names the topic of exactly one question: a word of the question's text
//     that is no function word, or a word of the same topic in another
//     language (topicWords); it answers that question up to the next lead;
//   - or there are exactly as many paragraphs as questions, and any leads
//     agree with the order: each paragraph answers the question in its place.
// Otherwise the text stays unassigned. Each answer records how it was tied,
// and the acknowledgement shows it, so a guess never goes unseen.

// proseDrafts ties the unnumbered paragraphs of the typed blocks to questions.
func proseDrafts(segs []segment, qs questions) []draft {
	if !qs.exact || qs.max == 0 {
		return nil
	}
	var paras [][]string
	for _, s := range segs {
		if s.owner > 0 {
			return nil
		}
		paras = appendParagraphs(paras, s.lines)
	}
	for len(paras) > 0 && isOpening(paras[0]) {
		paras = paras[1:]
	}
	if len(paras) > 0 && isThanks(paras[len(paras)-1]) {
		paras = paras[:len(paras)-1]
	}
	if len(paras) == 0 {
		return nil
	}
	tp := newTopics(qs)
	leads := make([]int, len(paras))
	rests := make([][]string, len(paras))
	inOrder := len(paras) == qs.max
	for i, p := range paras {
		leads[i], rests[i] = tp.lead(p)
		inOrder = inOrder && (leads[i] == 0 || leads[i] == i+1)
	}
	var out []draft
	for i := range paras {
		switch {
		case inOrder && leads[i] == 0:
			out = append(out, draft{num: i + 1, lines: paras[i], tie: TieOrder})
		case leads[i] > 0:
			out = append(out, draft{num: leads[i], lines: rests[i], tie: TieTopic})
		case len(out) > 0:
			// a paragraph without a lead goes on with the answer above it
			out[len(out)-1].lines = append(append(out[len(out)-1].lines, ""), paras[i]...)
		}
	}
	return out
}

// appendParagraphs splits lines at empty lines.
func appendParagraphs(paras [][]string, ls []string) [][]string {
	open := false
	for _, t := range ls {
		if strings.TrimSpace(t) == "" {
			open = false
			continue
		}
		if !open {
			paras = append(paras, nil)
			open = true
		}
		paras[len(paras)-1] = append(paras[len(paras)-1], t)
	}
	return paras
}

// isOpening reports a greeting or a lead-in paragraph ("Hi Åse,", "Here are
// my answers:"): one short line.
func isOpening(p []string) bool {
	if len(p) != 1 {
		return false
	}
	t := strings.TrimSpace(p[0])
	words := len(strings.Fields(t))
	if words > 10 {
		return false
	}
	low := strings.ToLower(t)
	return strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：") ||
		words <= 5 && (strings.HasSuffix(t, ",") || strings.HasSuffix(t, "!") || hasAnyPrefix(low, greetings))
}

// isThanks reports a closing line of thanks after the answers.
func isThanks(p []string) bool {
	return len(p) == 1 && len(strings.Fields(p[0])) <= 8 && containsAny(strings.ToLower(p[0]), thanksWords)
}

var greetings = []string{"hi", "hello", "hey", "dear", "good morning", "hej", "kære", "hallo", "liebe", "lieber",
	"guten", "moin", "servus", "bonjour", "salut", "cher", "chère", "hola", "buenos", "estimad", "ciao", "olá", "ola",
	"hoi", "goedemorgen", "beste", "hei", "god morgen", "こんにちは", "お疲れ様", "你好", "您好", "안녕하세요"}

var thanksWords = []string{"thank", "thanks", "tak", "danke", "merci", "gracias", "grazie", "bedankt", "dank",
	"tack", "takk", "obrigad", "谢谢", "ありがとう", "감사", "see you", "looking forward", "glæder mig", "freue mich"}

// topicLeads may open a lead before the topic: "About support:", "Re
// blockers -", "Om støtte:", "Zu den Themen:", "Ang. mål:".
var topicLeads = wordSet("about|re|regarding|concerning|on|as|for|to|the|my|our|and|also|ps|" +
	"om|angående|ang|vedr|vedrørende|til|mht|hvad|angår|mine|min|mit|de|" +
	"zu|zum|zur|zu den|bzgl|bezüglich|betreffend|über|thema|die|der|das|den|meine|mein|" +
	"concernant|pour|sur|quant|à|au|aux|la|le|les|mes|sobre|en|cuanto|a|al|respecto|acerca|el|los|las|mis|" +
	"over|wat|betreft|m.b.t|mbt|het|mijn|関して|について|关于|關於")

// stopWords are the function words of the questions, in the languages of the
// templates and those mentees write in: what is left of a question's text
// names its topic.
var stopWords = wordSet(
	// en
	"what|have|i|do|did|does|my|me|myself|the|a|an|and|or|to|of|in|on|for|since|our|us|we|would|like|want|" +
		"how|which|is|are|be|get|there|anything|else|should|about|at|this|that|it|its|each|one|still|see|list|" +
		"above|yes|no|last|next|time|face|from|by|with|become|has|been|particular|did|go|" +
		// da
		"hvad|har|jeg|vil|gerne|at|mine|mit|mig|min|vores|vi|og|eller|på|til|for|siden|om|det|den|de|er|der|" +
		"hvordan|hvilke|hvilken|hvor|ikke|inden|næste|sidste|står|over|med|af|en|et|ud|ved|denne|dette|bør|" +
		"sit|stadig|skal|lade|dagen|før|hver|se|listen|ovenfor|ja|nej|andet|samlet|set|nu|klart|særligt|" +
		// de
		"was|habe|hat|ich|will|möchte|mein|meine|meinen|mir|mich|wir|uns|und|oder|der|die|das|zu|für|seit|wie|" +
		"welche|wo|nicht|ist|sind|sein|ein|eine|im|am|vor|nach|bei|es|noch|" +
		// fr, es
		"que|qu|je|j|ai|mon|ma|mes|le|la|les|un|une|et|ou|à|pour|depuis|notre|nous|comment|quels|quelles|est|" +
		"qué|he|mi|mis|el|los|las|y|o|por|desde|nuestra|nuestro|cómo|cuáles|es")

// topicWords join the words that name the same topic, across the languages
// mentees write in: a question that holds one of them has all as its topic
// words. They are the topics of the questions in templates/*/questions.yaml.
var topicWords = [][]string{
	{"accomplished", "accomplishments", "achieved", "achievements", "progress", "wins", "nået", "opnået", "resultater", "erreicht", "geschafft", "erfolge", "accompli", "réalisé", "logros", "logrado", "成果", "进展"},
	{"didn", "undone", "missed", "slipped", "outstanding", "pending", "nåede", "mangler", "liegengeblieben", "offen", "pendiente", "未完成"},
	{"problems", "challenges", "opportunities", "blockers", "obstacles", "difficulties", "issues", "risks", "problemer", "udfordringer", "muligheder", "forhindringer", "probleme", "herausforderungen", "chancen", "hindernisse", "problèmes", "défis", "opportunités", "problemas", "desafíos", "retos", "oportunidades", "问题", "挑战", "課題"},
	{"topics", "discuss", "discussion", "agenda", "themes", "emner", "drøfte", "dagsorden", "themen", "besprechen", "sujets", "discuter", "temas", "discutir", "话题", "議題"},
	{"promised", "promises", "commitments", "actions", "todo", "lovet", "løfter", "versprochen", "vorhaben", "promis", "engagements", "prometido", "compromisos", "承诺"},
	{"support", "help", "støtte", "støtter", "hjælp", "unterstützung", "unterstützen", "hilfe", "soutien", "soutienne", "aide", "apoyo", "ayuda", "支持", "サポート"},
	{"hope", "hopes", "expectations", "håber", "forventninger", "hoffe", "erwartungen", "espère", "attentes", "espero", "expectativas", "期望"},
	{"objectives", "goals", "aims", "targets", "mål", "ziele", "objectifs", "objetivos", "目标", "目標"},
	{"meet", "meetings", "frequency", "schedule", "mødes", "møder", "treffen", "réunions", "reuniones"},
	{"touch", "contact", "communication", "kontakt", "kontakten", "kommunikation", "contacto"},
	{"record", "progress", "documentation", "tracking", "dokumentere", "fremskridt", "fortschritt", "dokumentieren", "progrès", "progreso"},
	{"reviewing", "review", "evaluate", "evaluering", "mentorrelationen", "fungerer"},
	{"share", "sharing", "read", "dele", "læse", "teilen", "lesen", "partager"},
	{"energised", "energized", "energy", "interested", "interest", "energi", "interesse", "energie", "énergie"},
	{"lessons", "learnings", "takeaways", "læringspunkter", "læring", "lektionen", "leçons", "lecciones"},
	{"learned", "learnt", "self", "lært", "selv", "gelernt", "appris"},
	{"recommend", "colleague", "anbefale", "kollega", "empfehlen", "recommander", "recomendar"},
}

// topics holds each question's topic words.
type topics struct {
	words map[int][]string
}

func newTopics(qs questions) topics {
	tp := topics{words: map[int][]string{}}
	for n, text := range qs.text {
		ws := contentWords(text)
		for _, group := range topicWords {
			if matchAnyWord(ws, group) {
				ws = append(ws, group...)
			}
		}
		tp.words[n] = ws
	}
	return tp
}

// contentWords are the words of s that are no function words.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.Fields(normWords(nfc(s))) {
		if !stopWords[w] && !topicLeads[w] {
			out = append(out, w)
		}
	}
	return out
}

// lead reads a paragraph's lead and returns the one question whose topic it
// names, and the paragraph without the lead; 0 when there is none.
func (tp topics) lead(p []string) (int, []string) {
	first := strings.TrimLeft(p[0], " *_#")
	head, tail, ok := cutLead(first)
	if !ok {
		// a heading on its own line: a few words without a full stop
		if len(p) < 2 || len(strings.Fields(first)) > 4 || endsSentence(first) && !strings.HasSuffix(first, ":") {
			return 0, nil
		}
		head, tail = first, ""
	}
	if hasDigit(head) {
		return 0, nil
	}
	ws := contentWords(strings.Trim(head, "*_ "))
	if len(ws) == 0 || len(ws) > 4 {
		return 0, nil
	}
	best, bestScore, tie := 0, 0, false
	for n, qw := range tp.words {
		score := 0
		for _, w := range ws {
			if matchAnyWord([]string{w}, qw) {
				score++
			}
		}
		switch {
		case score > bestScore:
			best, bestScore, tie = n, score, false
		case score == bestScore && score > 0:
			tie = true
		}
	}
	if best == 0 || tie {
		return 0, nil
	}
	rest := append([]string(nil), p[1:]...)
	if tail = strings.TrimSpace(tail); tail != "" {
		rest = append([]string{tail}, rest...)
	}
	return best, rest
}

// cutLead splits "About blockers: the budget" at its colon or dash when the
// part before it is short.
func cutLead(t string) (head, tail string, ok bool) {
	best := -1
	size := 0
	for _, sep := range []string{":", "：", " - ", " – ", " — "} {
		if i := strings.Index(t, sep); i > 0 && (best < 0 || i < best) {
			best, size = i, len(sep)
		}
	}
	if best < 0 || runeLen(t[:best]) > 48 || len(strings.Fields(t[:best])) > 6 {
		return "", "", false
	}
	return t[:best], t[best+size:], true
}

// matchAnyWord reports whether a word of ws is one of words, or the same word
// in another form (a shared stem of five letters, or one a prefix of the other
// of four or more: "challenge" and "challenges", "støtte" and "støtter").
func matchAnyWord(ws, words []string) bool {
	for _, a := range ws {
		for _, b := range words {
			if sameWord(a, b) {
				return true
			}
		}
	}
	return false
}

func sameWord(a, b string) bool {
	if a == b {
		return true
	}
	ra, rb := []rune(a), []rune(b)
	if hasCJK(a) || hasCJK(b) {
		return len(ra) >= 2 && len(rb) >= 2 && (strings.Contains(a, b) || strings.Contains(b, a))
	}
	short := min(len(ra), len(rb))
	if short < 4 {
		return false
	}
	common := 0
	for common < short && unicode.ToLower(ra[common]) == unicode.ToLower(rb[common]) {
		common++
	}
	return common == short || common >= 6 || common >= 5 && common*10 >= short*7
}
