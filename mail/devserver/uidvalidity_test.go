package devserver

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

// uidValidities returns the UIDVALIDITY of each folder of the user's mailbox,
// creating the folders that are missing.
func uidValidities(t *testing.T, s *Server, user string, folders ...string) []uint32 {
	t.Helper()
	c := dialIMAP(t, s, user, nil)
	var out []uint32
	for _, f := range folders {
		if f != "INBOX" {
			if err := c.Create(f, nil).Wait(); err != nil {
				t.Fatalf("Create(%s) = %v", f, err)
			}
		}
		st, err := c.Status(f, &imap.StatusOptions{UIDValidity: true}).Wait()
		if err != nil {
			t.Fatalf("Status(%s) = %v", f, err)
		}
		out = append(out, st.UIDValidity)
	}
	c.Close()
	return out
}

// Every start numbers its mailboxes above the last start's, so a client that
// remembers (UIDVALIDITY, UID) of what it read before a restart never takes
// a new message for one it read. imapmemserver alone gives every new INBOX
// UIDVALIDITY 1.
func TestUIDValidityIsNewAtEachStart(t *testing.T) {
	var last []uint32
	for range 3 {
		s := start(t, Config{})
		got := uidValidities(t, s, "mentoring@example.org", "INBOX", "Processed")
		if got[0] <= 1 || got[1] != got[0]+1 {
			t.Errorf("INBOX and Processed have UIDVALIDITY %v", got)
		}
		if last != nil && (got[0] <= last[0] || got[1] <= last[1]) {
			t.Errorf("UIDVALIDITY %v after a start that had %v", got, last)
		}
		last = got
		s.Close()
	}
}

// Config.UIDValidity pins the numbering: a server that reuses UIDs, for tests.
func TestUIDValidityPinned(t *testing.T) {
	for range 2 {
		s := start(t, Config{UIDValidity: 7})
		if got := uidValidities(t, s, "mentoring@example.org", "INBOX", "Processed"); got[0] != 7 || got[1] != 8 {
			t.Errorf("UIDVALIDITY %v, want [7 8]", got)
		}
		s.Close()
	}
}

// A start numbers its mailboxes above the UIDVALIDITY its client remembers,
// whatever the clock says (a restart within the second, a clock set back).
func TestUIDValidityAboveWhatTheClientRemembers(t *testing.T) {
	const remembered = 3_000_000_000 // a clock far ahead, once
	s := start(t, Config{UIDValidityAbove: remembered})
	if got := uidValidities(t, s, "mentoring@example.org", "INBOX"); got[0] <= remembered {
		t.Errorf("INBOX has UIDVALIDITY %d, the client remembers %d", got[0], remembered)
	}
}
