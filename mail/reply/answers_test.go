package reply

import (
	"reflect"
	"strings"
	"testing"
)

// parseBody runs Parse on a text/plain body from Ana Silva.
func parseBody(t *testing.T, body string, p *Prompt) *Result {
	t.Helper()
	raw := "From: Ana Silva <ana.silva@example.org>\r\nSubject: Re: Planning\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n")
	res, err := Parse([]byte(raw), Options{Prompt: p})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const quote3 = "\n\nOn Tue, 9 Mar 2027 at 08:00, Mentoring <m@mentord.example> wrote:\n> 1. What went well?\n> 2. What didn't?\n> 3. What next?\n"

func TestAnswerShapes(t *testing.T) {
	type a = map[int]string
	for _, tc := range []struct {
		name, body string
		want       a
	}{
		{"answer marks", "> 1. What went well?\nA: The launch.\n> 2. What didn't?\nSvar: Hiring.\n> 3. What next?\n", a{1: "The launch.", 2: "Hiring."}},
		{"initials tags", "> 1. What went well?\n[AS] The launch.\n> 2. What didn't?\n[AS] Hiring.\n> 3. What next?\n", a{1: "The launch.", 2: "Hiring."}},
		{"one tag is text", "> 1. What went well?\n[AS] The launch.\n> 2. What didn't?\nHiring.\n", a{1: "[AS] The launch.", 2: "Hiring."}},
		{"number alone on a line", "1.\nFinished X.\n\n2.\nNothing." + quote3, a{1: "Finished X.", 2: "Nothing."}},
		{"regarding", "Ad 1: Finished X.\nZu 2: Nothing." + quote3, a{1: "Finished X.", 2: "Nothing."}},
		{"bare numbers in pairs", "Answers:\n1 Finished X.\n2 Nothing." + quote3, a{1: "Finished X.", 2: "Nothing."}},
		{"a bare number alone is text", "We hired\n3 People joined." + quote3, nil},
		{"out of the quote's range", "4. Four.\n5. Five." + quote3, nil},
		{"answers from the quote never", "Thanks!" + quote3, nil},
		{"numbered lists inside an answer", "1. We did:\n- a\n- b\n2. Nothing." + quote3, a{1: "We did:\n- a\n- b", 2: "Nothing."}},
		{"sign-off after the last answer", "1. A.\n3. C.\n\nBest,\nAna" + quote3, a{1: "A.", 3: "C."}},
		{"name right under the last answer", "1. A.\n3. C.\nAna" + quote3, a{1: "A.", 3: "C."}},
		{"footer after the last answer", "2. B.\n\nSent from my iPhone" + quote3, a{2: "B."}},
	} {
		res := parseBody(t, tc.body, nil)
		got := res.Answers
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, map[int]string(tc.want)) {
			t.Errorf("%s: Answers = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPromptMatching(t *testing.T) {
	p := promptFromBody("Dear Ana,\n\nPlease answer below.\n\n1. What have I accomplished since our last session?\n\n" +
		"2. How do I want my mentor to support me?\n\n-- \nThe programme\n")
	for _, tc := range []struct {
		name, body string
		want       map[int]string
		text       string
	}{
		{"unprefixed quote with inline answers and a wrapped question",
			"See below.\n\nFrom: Programme <p@example.org>\nSent: Monday\nTo: Ana\nSubject: Plan\n\nDear Ana,\n\nPlease answer below.\n\n" +
				"1. What have I accomplished since\nour last session?\nThe grant.\n\n2. How do I want my mentor to support me? Honest feedback.\n\n-- \nThe programme\n",
			map[int]string{1: "The grant.", 2: "Honest feedback."}, "See below.\n\nThe grant.\n\nHonest feedback."},
		{"copied questions without numbers, no quote mark at all",
			"What have I accomplished since our last session?\nThe grant.\n\nHow do I want my mentor to support me?\nListen.",
			map[int]string{1: "The grant.", 2: "Listen."}, "The grant.\n\nListen."},
		{"case, punctuation and curly quotes do not matter",
			"> 1. WHAT HAVE I ACCOMPLISHED SINCE OUR LAST SESSION\nThe grant.\n",
			map[int]string{1: "The grant."}, "The grant."},
		{"numbers beyond the prompt are text", "3. Three.\n1. One.", map[int]string{1: "One."}, "3. Three.\n1. One."},
		{"a greeting that is also a line of the prompt", "Dear Ana,\n\n1. The grant.", map[int]string{1: "The grant."}, "Dear Ana,\n\n1. The grant."},
		{"a sentence that starts like a question is text",
			"How do I want my mentor to support me is the hard one.", nil, "How do I want my mentor to support me is the hard one."},
		{"a short fragment of the prompt typed as an answer stays",
			"> 2. How do I want my mentor to support me?\nsince our last session\n", map[int]string{2: "since our last session"}, "since our last session"},
	} {
		res := parseBody(t, tc.body, p)
		if !reflect.DeepEqual(res.Answers, tc.want) || res.NewText != tc.text {
			t.Errorf("%s:\n Answers = %v, want %v\n NewText = %q, want %q", tc.name, res.Answers, tc.want, res.NewText, tc.text)
		}
	}
}

func TestEmptyReplies(t *testing.T) {
	for _, body := range []string{
		"" + quote3,
		"\n\n\n" + quote3,
		"Sent from my iPhone" + quote3,
		"-- \nAna Silva\nAnalyst\n+44 20 7946 0000" + quote3,
		"Ana Silva\nAnalyst | Example Org\nT: +44 20 7946 0000\n\nFrom: Mentoring <m@mentord.example>\nSent: Tuesday\nTo: Ana\nSubject: Planning\n\n1. What went well?",
	} {
		res := parseBody(t, body, nil)
		if res.Kind != KindReply || res.NewText != "" || len(res.Answers) > 0 {
			t.Errorf("%q: Kind %s, NewText %q, Answers %v", body, res.Kind, res.NewText, res.Answers)
		}
	}
}

func TestStripTail(t *testing.T) {
	nm := namesOf(Header{From: "priya.raghunathan@example.org", FromName: "Priya Raghunathan"})
	for _, tc := range []struct{ in, want string }{
		{"Text.\n\nThanks,\nPriya", "Text."},
		{"Text.\n\nBest regards\nPriya Raghunathan", "Text."},
		{"Text.\nCheers,\nP", "Text."},
		{"Text.\n\nThanks, Priya", "Text."},
		{"Text.\n\nPriya", "Text."},
		{"Text.\n\n-- \nPriya\nhttps://example.org", "Text."},
		{"Text.\n--\nsent by a robot", "Text."},
		{"Text.\n\n—Priya", "Text."},
		{"Text.\n\nSent from my iPhone", "Text."},
		{"Text.\n\nVon meinem iPhone gesendet", "Text."},
		{"Text.\n\nEnviado desde mi Samsung Galaxy", "Text."},
		{"Text.\n\nGet Outlook for Android", "Text."},
		{"Text.\n\n从我的iPhone发送", "Text."},
		{"Text.\n\nKind regards,\nPriya\n\nPriya Raghunathan\nSenior Engineer | Example Org\nT: +44 20 7946 0614\n\n" +
			"CONFIDENTIALITY NOTICE: This email and any attachments are confidential and intended solely for the addressee.", "Text."},
		{"Text.\n\nPriya Raghunathan\nSenior Engineer\nExample Org\nM: +44 7700 900418", "Text."},
		{"6. Be blunt with me.\nPriya", "6. Be blunt with me."},
		{"6) Be blunt with me\nPriya Raghunathan", "6) Be blunt with me"},
		{"Text.\n\nThanks Priya", "Text."},
		{"CAUTION: This email originated from outside the organization.\n\nText.", "CAUTION: This email originated from outside the organization.\n\nText."},
		{"Text.\n\nDiese E-Mail enthält vertrauliche Informationen und ist nur für den Empfänger bestimmt. Wenn Sie nicht der richtige Adressat sind, informieren Sie bitte den Absender.", "Text."},
		{"Text.\n\nVenlig hilsen\nPriya", "Text."},
		{"Text.\n\nС уважением,\nПрия", "Text."},
	} {
		got := strings.Join(stripTail(strings.Split(tc.in, "\n"), nm), "\n")
		if got != tc.want {
			t.Errorf("stripTail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStripTailKeeps holds text that looks like a sign-off but is an answer:
// losing an answer is worse than keeping a "Regards".
func TestStripTailKeeps(t *testing.T) {
	nm := namesOf(Header{From: "priya@example.org", FromName: "Priya Raghunathan"})
	for _, in := range []string{
		"Thanks to your advice I finally asked for the budget.",
		"3. Nothing yet.\n\nThe project is confidential, so I cannot say much.",
		"5. Write to Anna and Bo.\n\nAnna Berg\nBo Lund",
		"Project Alpha\nProject Beta",
		"1. Sent from my desk at the office, the report is done.",
		"P.S. I will be ten minutes late.",
		"2) The budget.\n\nSee you next week, I'm looking forward to it.",
		"See you Tuesday!",
		"Thanks!",
	} {
		if got := strings.Join(stripTail(strings.Split(in, "\n"), nm), "\n"); got != in {
			t.Errorf("stripTail(%q) = %q, want it kept", in, got)
		}
	}
}

func TestNames(t *testing.T) {
	nm := namesOf(Header{From: "c.okonkwo@example.org", FromName: "Okonkwo, Chidinma"})
	for line, want := range map[string]bool{
		"Chidinma Okonkwo": true, "Chidinma": true, "CO": true, "Okonkwo": true, "chidinma": true,
		"Maintenance Planning Lead": false, "Best wishes": false,
	} {
		if got := nameLike(line, nm, nameStrict); got != want {
			t.Errorf("nameLike(%q, strict) = %v, want %v", line, got, want)
		}
	}
	if !nameLike("Joaquín", namesOf(Header{FromName: "Joaquin Nunez"}), nameStrict) {
		t.Error("diacritics should not matter")
	}
}

func TestStripBanner(t *testing.T) {
	for in, want := range map[string]string{
		"CAUTION: This email originated from outside the organization.\nDo not click links.\n\nText.": "\nText.",
		"[EXTERNAL] Be careful with links.\n\nText.":                                                  "\nText.",
		"You don't often get email from ana@example.org. Learn why this is important\n\nText.":        "\nText.",
		"Text first.\n\nCAUTION: external.":                                                           "Text first.\n\nCAUTION: external.",
	} {
		if got := strings.Join(stripBanner(strings.Split(in, "\n")), "\n"); got != want {
			t.Errorf("stripBanner(%q) = %q, want %q", in, got, want)
		}
	}
}
