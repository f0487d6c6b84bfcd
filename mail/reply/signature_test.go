package reply

import (
	"strings"
	"testing"
)

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
