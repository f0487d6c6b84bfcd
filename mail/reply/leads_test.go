package reply

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestLateNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		num  int
		rest string
	}{
		{"Forgot 3: the budget.", 3, "the budget."},
		{"Sorry, forgot number 3: the budget.", 3, "the budget."},
		{"Also on 2: more.", 2, "more."},
		{"Re 4: yes.", 4, "yes."},
		{"Ad 3) Ja.", 3, "Ja."},
		{"Nachtrag zu 4: Themen.", 4, "Themen."},
		{"Glemte lige 5: Udkastet.", 5, "Udkastet."},
		{"Også til 3: Centret.", 3, "Centret."},
		{"PS re #6 - feedback", 6, "feedback"},
		{"J'ai oublié la 2 : rien.", 2, "rien."},
		{"关于第6题：多问问题。", 6, "多问问题。"},
		{"补充问题2：没有。", 2, "没有。"},
		{"3番について：特になし。", 3, "特になし。"},
	} {
		n, rest, ok := lateNumber(tc.in)
		if !ok || n != tc.num || rest != tc.rest {
			t.Errorf("lateNumber(%q) = %d, %q, %v; want %d, %q", tc.in, n, rest, ok, tc.num, tc.rest)
		}
	}
	for _, in := range []string{
		"3. A plain number is no lead.", "We hired 3: Anna, Bo and Cy.", "Forgot 3 people in the plan.",
		"Forgot it", "", "Also on Tuesday: the workshop.", "我们招了3个人。",
	} {
		if n, _, ok := lateNumber(in); ok {
			t.Errorf("lateNumber(%q) = %d, want no lead", in, n)
		}
	}
}

func TestAnswersInAnyOrder(t *testing.T) {
	type a = map[int]string
	type ties = map[int]Tie
	for _, tc := range []struct {
		name, body string
		want       a
		tied       ties
	}{
		{"falling numbers", "3. C.\n1. A.\n2. B." + quote3, a{1: "A.", 2: "B.", 3: "C."}, ties{1: TieNumber, 2: TieNumber, 3: TieNumber}},
		{"in paragraphs", "2. B.\n\n1. A." + quote3, a{1: "A.", 2: "B."}, nil},
		{"a list after a colon stays in the answer", "3. We chose:\n1. this\n2. that" + quote3, a{3: "We chose:\n1. this\n2. that"}, nil},
		{"a number answered already is text", "1. A.\n2. B.\n1. Still B." + quote3, a{1: "A.", 2: "B.\n1. Still B."}, nil},
		{"another way of writing is text", "3. C.\n1) one of the three" + quote3, a{3: "C.\n1) one of the three"}, nil},
		{"forgot, after the others", "1. A.\n2. B.\n\nForgot 3: C." + quote3, a{1: "A.", 2: "B.", 3: "C."}, ties{3: TieLateNumber}},
		{"a late lead adds to an answer", "1. A.\n2. B.\n\nAlso on 1: more." + quote3, a{1: "A.\n\nmore.", 2: "B."}, ties{1: TieNumber}},
		{"a follow-up alone", "Sorry, forgot number 2: B." + quote3, a{2: "B."}, ties{2: TieLateNumber}},
		{"under a quoted question", "> 1. What went well?\nThe launch.\n\nZu 3: Hiring.\n> 2. What didn't?\n> 3. What next?\n", a{1: "The launch.", 3: "Hiring."}, ties{1: TieInline, 3: TieLateNumber}},
	} {
		res := parseBody(t, tc.body, nil)
		got := res.Answers
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, map[int]string(tc.want)) {
			t.Errorf("%s: Answers = %v, want %v", tc.name, got, tc.want)
		}
		for n, tie := range tc.tied {
			if res.Ties[n] != tie {
				t.Errorf("%s: Ties[%d] = %q, want %q", tc.name, n, res.Ties[n], tie)
			}
		}
		if len(res.Ties) != len(res.Answers) {
			t.Errorf("%s: Ties %v for Answers %v", tc.name, res.Ties, res.Answers)
		}
	}
}

// ackReply is an Outlook reply to mentord's acknowledgement: a correction on
// top, the acknowledgement quoted without '>' under a header block.
func ackReply(t *testing.T) (body, ack, checklist string) {
	t.Helper()
	a, err := os.ReadFile("../../templates/testdata/golden/en/ack.txt")
	if err != nil {
		t.Fatal(err)
	}
	c, err := os.ReadFile("../../templates/testdata/golden/en/checklist.txt")
	if err != nil {
		t.Fatal(err)
	}
	body = "Correction to 2: the plan is drafted.\n\nAna\n\nFrom: Mentoring <m@example.org>\nSent: Tuesday, January 12, 2027 8:10 AM\n" +
		"To: Ana Silva <ana.silva@example.org>\nSubject: Recorded: your plan\n\n" + string(a)
	return body, string(a), string(c)
}

func TestHeaderBlockOfAnotherMessageEndsTheText(t *testing.T) {
	body, ack, checklist := ackReply(t)
	want := map[int]string{2: "the plan is drafted."}
	for _, tc := range []struct {
		name string
		p    *Prompt
	}{
		{"the checklist it acknowledges as the prompt", promptFromBody(checklist)},
		{"the acknowledgement's text as the prompt's body", &Prompt{Body: ack, Questions: promptFromBody(checklist).Questions}},
		{"the acknowledgement's text, no questions", &Prompt{Body: ack}},
		{"no prompt", nil},
	} {
		res := parseBody(t, body, tc.p)
		if !reflect.DeepEqual(res.Answers, want) || res.NewText != "Correction to 2: the plan is drafted." {
			t.Errorf("%s:\n Answers = %v, want %v\n NewText = %q", tc.name, res.Answers, want, res.NewText)
		}
	}
}

// TestInlineInTheAcknowledgement: with the acknowledgement's text as the
// prompt's body, an answer typed inside its unprefixed quote is still read.
func TestInlineInTheAcknowledgement(t *testing.T) {
	_, ack, checklist := ackReply(t)
	quoted := strings.Replace(ack, "   Yes, both.\n", "   Yes, both.\nActually only the first one.\n", 1)
	body := "See below.\n\nFrom: Mentoring <m@example.org>\nSent: Tuesday, January 12, 2027 8:10 AM\nTo: Ana Silva <ana.silva@example.org>\nSubject: Recorded\n\n" + quoted
	res := parseBody(t, body, &Prompt{Body: ack, Questions: promptFromBody(checklist).Questions})
	if want := "Actually only the first one."; res.Answers[7] != want || len(res.Answers) != 1 {
		t.Errorf("Answers = %v, want 7: %q", res.Answers, want)
	}
}

func TestSignedNamesInAnyScript(t *testing.T) {
	for _, tc := range []struct{ name, addr, sign string }{
		{"山田太郎", "t.yamada@example.jp", "山田"},
		{"山田太郎", "t.yamada@example.jp", "山田より"},
		{"山田 太郎", "t.yamada@example.jp", "山田 拝"},
		{"王伟", "wang@example.cn", "小王"},
		{"홍길동", "hong@example.kr", "길동 드림"},
		{"Ivan Petrov", "ivan@example.ru", "Иван"},
		{"Γιώργος Παπαδόπουλος", "gp@example.gr", "Γιώργος"},
		{"Bjørn Kærgård", "bk@example.dk", "/Bjørn"},
		{"Bjørn Kærgård", "bk@example.dk", "/B"},
		{"Bjørn Kærgård", "bk@example.dk", "Mvh. Bjørn"},
		{"Ana Silva", "ana@example.org", "~Ana"},
	} {
		raw := "From: " + encodeWord(tc.name) + " <" + tc.addr + ">\r\nSubject: Re\r\n\r\n1. A.\r\n2. B.\r\n\r\n" + tc.sign + "\r\n" +
			strings.ReplaceAll(quote3, "\n", "\r\n")
		res, err := Parse([]byte(raw), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Answers[2] != "B." || strings.Contains(res.NewText, tc.sign) {
			t.Errorf("%s signing %q: Answers = %v, NewText = %q", tc.name, tc.sign, res.Answers, res.NewText)
		}
	}
	// A name mentord knows from the roster, in another script than From's.
	raw := "From: Taro Yamada <t.yamada@example.jp>\r\nSubject: Re\r\n\r\n1. A.\r\n2. B.\r\n\r\n山田\r\n" + strings.ReplaceAll(quote3, "\n", "\r\n")
	if res, _ := Parse([]byte(raw), Options{Names: []string{"山田 太郎"}}); res.Answers[2] != "B." {
		t.Errorf("known name: Answers = %v", res.Answers)
	}
	// A word that is not the sender's name stays.
	raw = "From: =?utf-8?b?5bGx55Sw5aSq6YOO?= <t.yamada@example.jp>\r\nSubject: Re\r\n\r\n1. A.\r\n2. B.\r\n\r\n未定\r\n" + strings.ReplaceAll(quote3, "\n", "\r\n")
	if res, _ := Parse([]byte(raw), Options{}); res.Answers[2] != "B.\n\n未定" {
		t.Errorf("not a name: Answers = %v", res.Answers)
	}
}

func encodeWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "=?utf-8?q?" + qEncode(s) + "?="
		}
	}
	return s
}

func qEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			sb.WriteByte('_')
		case c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'):
			sb.WriteByte(c)
		default:
			sb.WriteByte('=')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	return sb.String()
}
