package reply

import (
	"strings"
	"testing"
)

// roles runs the quote stage on text and returns one letter per line:
// t typed, q quote, m meta (attribution, header block, separator).
func roles(text string) string {
	ls := splitLines(text)
	markStructure(ls)
	inferQuestions(ls)
	applySoft(ls)
	var sb strings.Builder
	for _, l := range ls {
		sb.WriteByte("tqm"[l.role])
	}
	return sb.String()
}

func TestAttributions(t *testing.T) {
	for _, attr := range []string{
		"On Tue, 9 Mar 2027 at 08:00, Mentoring <mentoring@mentord.example> wrote:",
		"On Tue, Mar 9, 2027 at 8:00 AM Mentoring <mentoring@mentord.example>\nwrote:",
		"On Tue, Mar 9, 2027 at 8:00 AM Mentoring <\nmentoring@mentord.example> wrote:",
		"Am Di., 9. März 2027 um 08:00 Uhr schrieb Mentoring <mentoring@mentord.example>:",
		"Am 09.03.27 um 08:00 schrieb Mentoring:",
		"Le mar. 9 mars 2027 à 08:00, Mentoring <mentoring@mentord.example> a\nécrit :",
		"Op di 9 mrt 2027 om 08:00 schreef Mentoring <mentoring@mentord.example>:",
		"Op 9 mrt. 2027 om 08:00 heeft Mentoring <mentoring@mentord.example> het volgende geschreven:",
		"El mar, 9 mar 2027 a las 8:00, Mentoring (<mentoring@mentord.example>) escribió:",
		"tir. 9. mar. 2027 kl. 08:00 skrev Mentoring <mentoring@mentord.example>:",
		"Den tis 9 mars 2027 kl 08:00 skrev Mentoring <mentoring@mentord.example>:",
		"Den 9. mar. 2027 kl. 08.00 skrev Mentoring <mentoring@mentord.example>:",
		"Στις Τρί 9 Μαρ 2027 στις 8:00 π.μ., ο/η Mentoring <mentoring@mentord.example> έγραψε:",
		"вт, 9 мар. 2027 г. в 08:00, Mentoring <mentoring@mentord.example>:",
		"Mentoring <mentoring@mentord.example> 于2027年3月9日周二 08:00写道：",
		"Em ter., 9 de mar. de 2027 às 08:00, Mentoring <mentoring@mentord.example> escreveu:",
		"Il giorno mar 9 mar 2027 alle ore 08:00 Mentoring <mentoring@mentord.example> ha scritto:",
		"wt., 9 mar 2027 o 08:00 Mentoring <mentoring@mentord.example> napisał(a):",
		"ti 9. maalisk. 2027 klo 8.00 Mentoring (mentoring@mentord.example) kirjoitti:",
		"2027年3月9日(火) 8:00 Mentoring <mentoring@mentord.example>:",
		"Mentoring <mentoring@mentord.example>, 9 Mar 2027 Sal, 08:00 tarihinde şunu yazdı:",
		"On 09/03/2027 08:00, Mentoring wrote:",
		"On Tue, 2027-03-09 at 08:00 +0000, Mentoring wrote:",
		"Quoting Mentoring <mentoring@mentord.example>:",
		"Zitat von Mentoring <mentoring@mentord.example>:",
	} {
		text := "My answer.\n\n" + attr + "\n> 1. What didn't get done?\n> -- \n"
		n := strings.Count(attr, "\n") + 1
		want := "tt" + strings.Repeat("m", n) + "qqt"
		if got := roles(text); got != want {
			t.Errorf("roles(%q) = %s, want %s", attr, got, want)
		}
	}
}

func TestNotAttributions(t *testing.T) {
	for _, text := range []string{
		"Here is what I wrote:\n> a quote of something else",              // no date
		"I have 3 points:\n> quoted",                                      // no verb, no address
		"On Tuesday at 10:00 my manager wrote:\nThat the budget is fine.", // no year, no address: not a Yahoo quote
		"My plan for 2027 is as follows:\n1. Write.",
	} {
		if got := roles(text); strings.Contains(got, "m") {
			t.Errorf("roles(%q) = %s, want no meta line", text, got)
		}
	}
}

func TestHeaderBlocks(t *testing.T) {
	orig := "Hi,\n\n1. What didn't get done?\n2. What else?\n"
	for _, block := range []string{
		"From: Mentoring <mentoring@mentord.example>\nSent: Tuesday, March 9, 2027 8:00 AM\nTo: A <a@example.org>\nSubject: Planning",
		"________________________________\nFrom: Mentoring <mentoring@mentord.example>\nSent: 09 March 2027 08:00\nTo: A <a@example.org>\nSubject: Planning",
		"-----Original Message-----\nFrom: Mentoring <mentoring@mentord.example> \nSent: 09 March 2027 08:00\nTo: A\nSubject: Planning",
		"-------- Original message --------\nFrom: Mentoring <mentoring@mentord.example> \nDate: 09/03/2027 08:00 (GMT+00:00) \nTo: a@example.org \nSubject: Planning ",
		"Von: Mentoring <mentoring@mentord.example>\nGesendet: Dienstag, 9. März 2027 08:00\nAn: A\nBetreff: Planning",
		"Gesendet: Dienstag, 09. März 2027 um 08:00 Uhr\nVon: \"Mentoring\" <mentoring@mentord.example>\nAn: A\nBetreff: Planning",
		"De : Mentoring <mentoring@mentord.example>\nEnvoyé : mardi 9 mars 2027 08:00\nÀ : A\nObjet : Planning",
		"De: Mentoring <mentoring@mentord.example>\nEnviado: martes, 9 de marzo de 2027 8:00\nPara: A\nAsunto: Planning",
		"Fra: Mentoring <mentoring@mentord.example>\nSendt: tirsdag den 9. marts 2027 08:00\nTil: A\nEmne: Planning",
		"Van: Mentoring <mentoring@mentord.example>\nVerzonden: dinsdag 9 maart 2027 08:00\nAan: A\nOnderwerp: Planning",
		"Från: Mentoring <mentoring@mentord.example>\nSkickat: den 9 mars 2027 08:00\nTill: A\nÄmne: Planning",
		"------------------ 原始邮件 ------------------\n发件人: \"Mentoring\"<mentoring@mentord.example>;\n发送时间: 2027年3月9日(星期二) 上午8:00\n收件人: \"A\"<a@qq.com>;\n主题: Planning",
		"发件人: Mentoring <mentoring@mentord.example>\n发送时间: 2027年3月9日 8:00\n收件人: A\n主题: Planning",
		"Από: Mentoring <mentoring@mentord.example>\nΣτάλθηκε: Τρίτη, 9 Μαρτίου 2027 8:00 πμ\nΠρος: A\nΘέμα: Planning",
		"От: Mentoring <mentoring@mentord.example>\nОтправлено: 9 марта 2027 г. 8:00\nКому: A\nТема: Planning",
		"Kimden: Mentoring <mentoring@mentord.example>\nGönderildi: 9 Mart 2027 Salı 08:00\nKime: A\nKonu: Planning",
		"Lähettäjä: Mentoring <mentoring@mentord.example>\nLähetetty: tiistai 9. maaliskuuta 2027 8.00\nVastaanottaja: A\nAihe: Planning",
		"Feladó: Mentoring <mentoring@mentord.example>\nElküldve: 2027. március 9. 8:00\nCímzett: A\nTárgy: Planning",
		"Begin forwarded message:\n\nFrom: Mentoring <mentoring@mentord.example>\nDate: 9 March 2027 at 08:00:00 GMT\nTo: A\nSubject: Planning",
	} {
		text := "Answers above.\n\n" + block + "\n\n" + orig
		got := roles(text)
		if !strings.HasPrefix(got, "tt") || strings.Contains(got[2:], "t") {
			t.Errorf("roles after %q = %s, want typed then no typed line", block, got)
		}
	}
}

func TestInlineUnderQuestions(t *testing.T) {
	text := "> 1. What went well?\n\nThe launch.\n\n> 2. What didn't?\n> 3. What next?\n\nHiring.\n\n> You can answer as few as you like.\n\nSee you!"
	segs := segments(func() []line {
		ls := splitLines(text)
		markStructure(ls)
		inferQuestions(ls)
		return ls
	}())
	want := []int{1, 3, 0}
	if len(segs) != len(want) {
		t.Fatalf("segments = %v", segs)
	}
	for i, s := range segs {
		if s.owner != want[i] {
			t.Errorf("segment %d %q owner = %d, want %d", i, s.lines, s.owner, want[i])
		}
	}
}

func TestTripleQuoteBlock(t *testing.T) {
	if got := roles("Answer.\n>>>\nquoted\ntext\n<<<\nMore."); got != "tmqqmt" {
		t.Errorf("roles = %s, want tmqqmt", got)
	}
}
