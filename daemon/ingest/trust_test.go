package ingest

import (
	"testing"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
)

func TestDMARCOf(t *testing.T) {
	const id, from = "mx.example.org", "bo@example.org"
	for _, c := range []struct {
		name string
		ars  []string
		want dmarc
	}{
		{"pass", []string{"mx.example.org; spf=pass; dmarc=pass (p=reject dis=none) header.from=example.org"}, dmarcPass},
		{"pass in another case", []string{"MX.Example.org 1; DMARC=PASS header.from=EXAMPLE.ORG"}, dmarcPass},
		{"fail", []string{"mx.example.org; dmarc=fail header.from=example.org"}, dmarcFail},
		{"none", []string{"mx.example.org; dmarc=none header.from=example.org"}, dmarcNone},
		{"no dmarc result", []string{"mx.example.org; spf=pass smtp.mailfrom=example.org"}, dmarcNone},
		{"no field", nil, dmarcNone},
		{"another domain", []string{"mx.example.org; dmarc=pass header.from=x.example"}, dmarcMismatch},
		{"another server", []string{"mx.evil.example; dmarc=pass header.from=example.org"}, dmarcNone},
		{"another server's fail", []string{"mx.evil.example; dmarc=fail"}, dmarcNone},
		{"a forged pass above the real fail", []string{"mx.example.org; dmarc=pass header.from=example.org", "mx.example.org; dmarc=fail header.from=example.org"}, dmarcFail},
		{"a comment naming our server", []string{"(mx.example.org) mx.evil.example; dmarc=pass"}, dmarcNone},
		{"a comment hiding a word", []string{"mx.example.org; dmarc=pass (header.from=x.example) header.from=example.org"}, dmarcPass},
	} {
		if got := dmarcOf(c.ars, id, from); got != c.want {
			t.Errorf("%s: dmarcOf = %d, want %d", c.name, got, c.want)
		}
	}
	if got := dmarcOf([]string{"mx.example.org; dmarc=fail"}, "", from); got != dmarcUnread {
		t.Errorf("without authserv_id: %d, want unread", got)
	}
}

// A late reply goes where a quarantined one goes: kept for a person.
func TestLateGoesToQuarantine(t *testing.T) {
	cfg := &config.Config{}
	cfg.IMAP.Folders = config.Folders{Inbox: "INBOX", Processed: "P", Quarantine: "Q", Unrelated: "U"}
	for outcome, want := range map[string]string{store.OutcomeLate: "Q", store.OutcomeQuarantined: "Q", store.OutcomeLogged: "P", store.OutcomeUnrelated: "U"} {
		if got := folderFor(cfg, outcome); got != want {
			t.Errorf("folderFor(%s) = %s, want %s", outcome, got, want)
		}
	}
}

// Addresses compare case-insensitively in ASCII only: Unicode case folding
// would make the Kelvin sign (U+212A) a "k" and the long s (U+017F) an "s",
// so that another address passes for a participant's.
func TestSameAddress(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"kim@example.org", "KIM@Example.ORG", true},
		{"jörg@example.de", "jörg@example.de", true},
		{"kim@example.org", "\u212aim@example.org", false},
		{"sam@example.org", "\u017fam@example.org", false},
		{"kim@example.org", "kim@example.org.", false},
	} {
		if got := sameAddress(c.a, c.b); got != c.same {
			t.Errorf("sameAddress(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
