package daemon

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
)

// Every kind of message a participant writes, in English and Danish, as
// Gmail, Outlook and Apple Mail lay it out: a new message to the programme
// address (the mentee) or a reply to the invitation (the mentor proposing a
// new time), each read for what it asks.
func TestTalkEveryKindInEveryLayout(t *testing.T) {
	r := newReading(t, talkAdmin)
	inv := r.inviteOf(t, 3, mentorAddr)
	invFields := replyFields(t, inv, mentorAddr, "")
	type kind struct {
		name, en, da string
		reply        bool   // a reply to the mentor's invitation
		want         string // the start of the reason
	}
	kinds := []kind{
		{"check-in", "Quick update: the grant went in, and the talk with my head of department went well.",
			"Kort status: ansøgningen er sendt ind, og snakken med institutlederen gik godt.", false, "check-in"},
		{"pause", "Please pause my mentoring, I'm on parental leave until May.",
			"Kan I sætte mit forløb på pause? Jeg er på barsel indtil 1. maj.", false, "pause asked to be confirmed"},
		{"resume", "I'm back from leave and ready to start again.",
			"Jeg er tilbage fra barsel og klar til at starte igen.", false, "resume refused: not-paused"},
		{"log", "Could you send me what I have written so far?",
			"Vil I sende mig hvad jeg har skrevet indtil nu?", false, "log"},
		{"stop", "I would like to withdraw from the programme, my new job leaves no time.",
			"Jeg vil gerne melde mig ud af mentorordningen, mit nye job giver ikke tid.", false, "stop asked to be confirmed"},
		{"question", "Who should I contact about a parking permit for the sessions?",
			"Hvem skal jeg kontakte om en parkeringstilladelse til samtalerne?", false, "kept for the admin"},
		{"move", "Sorry, I'm at a conference that week. Can we do Thursday 11 March at 15:00 instead?",
			"Beklager, jeg er til konference den uge. Kan vi tage torsdag den 11. marts kl. 15 i stedet?", true, "session 3: mentor proposes 2027-03-11T14:00:00Z"},
	}
	n := 0
	for _, k := range kinds {
		for _, lang := range []string{"en", "da"} {
			for _, layout := range []string{"gmail", "outlook", "apple"} {
				n++
				text := k.en
				if lang == "da" {
					text = k.da
				}
				f := map[string]string{"FROM": menteeAddr, "TO": "mentoring@example.org", "MSGID": fmt.Sprintf("layout%d@%s.example", n, layout),
					"SUBJECT": "Mentoring", "INREPLYTO": ""}
				if k.reply {
					f = invFields
					f["MSGID"] = fmt.Sprintf("layout%d@%s.example", n, layout)
				}
				raw := layoutMessage(layout, lang, f, text, k.reply)
				out := r.ingest(raw)
				if !strings.HasPrefix(out.Reason, k.want) {
					t.Errorf("%s in %s from %s: %s (%s), want %q", k.name, lang, layout, out.Outcome, out.Reason, k.want)
				}
				// What was read is the typed text, never the quote or signature.
				var got string
				switch k.name {
				case "check-in":
					r.db.R().Get(&got, `SELECT text FROM checkins ORDER BY id DESC LIMIT 1`)
					if got != text {
						t.Errorf("check-in in %s from %s recorded %q, want %q", lang, layout, got, text)
					}
				case "move": // one proposal at a time for the session: the next is another's
					if err := r.db.Tx(context.Background(), func(tx *sqlx.Tx) error {
						_, err := tx.Exec(`UPDATE proposals SET status = 'declined'; UPDATE moves SET settled_at = '2027-02-09 10:00:00+00:00'`)
						return err
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

// layoutMessage lays text out as the mail program writes it, in lang: a new
// message, or (reply) a reply quoting the invitation.
func layoutMessage(layout, lang string, f map[string]string, text string, reply bool) []byte {
	sig := map[string]string{"en": "Best regards,\nBo Jensen", "da": "Venlig hilsen\nBo Jensen"}[lang]
	head := "From: Bo Jensen <{{FROM}}>\nTo: {{TO}}\nSubject: {{SUBJECT}}\nDate: Tue, 9 Feb 2027 10:00:00 +0100\nMessage-ID: <{{MSGID}}>\n"
	if reply {
		head = strings.Replace(head, "Bo Jensen", "Ada Lovelace", 1)
		sig = strings.Replace(sig, "Bo Jensen", "Ada", 1)
		head += "In-Reply-To: <{{INREPLYTO}}>\nReferences: <{{INREPLYTO}}>\n"
		head = strings.Replace(head, "Subject: ", "Subject: Re: ", 1)
	}
	quoted := "Dear Ada Lovelace,\nYou are invited to mentoring session 3 of 12 with Bo Jensen."
	var body string
	switch layout {
	case "gmail":
		plain := text + "\n\n" + sig + "\n"
		htm := "<div dir=\"ltr\">" + html.EscapeString(text) + "<br><br>" + strings.ReplaceAll(html.EscapeString(sig), "\n", "<br>") + "</div>"
		if reply {
			attr := map[string]string{"en": "On Mon, 1 Feb 2027 at 09:00, Staff Mentoring <mentoring@example.org> wrote:",
				"da": "man. 1. feb. 2027 kl. 09:00 skrev Staff Mentoring <mentoring@example.org>:"}[lang]
			plain += "\n" + attr + "\n> " + strings.ReplaceAll(quoted, "\n", "\n> ") + "\n"
			htm += "<br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">" + html.EscapeString(attr) +
				"<br></div><blockquote class=\"gmail_quote\">" + strings.ReplaceAll(html.EscapeString(quoted), "\n", "<br>") + "</blockquote></div>"
		}
		body = "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"g1\"\n\n--g1\nContent-Type: text/plain; charset=\"UTF-8\"\n\n" +
			plain + "\n--g1\nContent-Type: text/html; charset=\"UTF-8\"\n\n" + htm + "\n--g1--\n"
	case "outlook":
		htm := "<html><body><div class=\"WordSection1\"><p class=\"MsoNormal\">" + html.EscapeString(text) + "</p><p class=\"MsoNormal\">&nbsp;</p>" +
			"<p class=\"MsoNormal\">" + strings.ReplaceAll(html.EscapeString(sig), "\n", "<br>") + "<br>Institut for Kemi | Aarhus Universitet</p></div>"
		if reply {
			labels := map[string][4]string{"en": {"From", "Sent", "To", "Subject"}, "da": {"Fra", "Sendt", "Til", "Emne"}}[lang]
			htm += "<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>" + labels[0] +
				":</b> Staff Mentoring &lt;mentoring@example.org&gt;<br><b>" + labels[1] + ":</b> 1. februar 2027 09:00<br><b>" + labels[2] +
				":</b> Ada Lovelace<br><b>" + labels[3] + ":</b> {{SUBJECT}}</div><div><p>" + strings.ReplaceAll(html.EscapeString(quoted), "\n", "<br>") + "</p></div>"
		}
		body = "Accept-Language: " + lang + "\nMIME-Version: 1.0\nContent-Type: text/html; charset=\"utf-8\"\n\n" + htm + "</body></html>\n"
	case "apple":
		foot := map[string]string{"en": "Sent from my iPhone", "da": "Sendt fra min iPhone"}[lang]
		plain := text + "\n\n" + foot + "\n"
		if reply {
			attr := map[string]string{"en": "On 1 Feb 2027, at 09:00, Staff Mentoring <mentoring@example.org> wrote:",
				"da": "Den 1. feb. 2027 kl. 09.00 skrev Staff Mentoring <mentoring@example.org>:"}[lang]
			plain += "\n> " + attr + "\n>\n> " + strings.ReplaceAll(quoted, "\n", "\n> ") + "\n"
		}
		body = "Mime-Version: 1.0 (1.0)\nX-Mailer: iPhone Mail (21D61)\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + plain
	}
	return fill(head+body, f)
}
