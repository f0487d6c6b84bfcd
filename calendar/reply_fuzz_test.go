package calendar

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParseReplies feeds ParseReplies anything, seeded with every calendar
// object in testdata: it must not panic (a recovered panic is errPanic),
// every error must wrap a sentinel, and every Reply must keep the
// documented promises.
func FuzzParseReplies(f *testing.F) {
	emls, _ := filepath.Glob("testdata/itip/*.eml")
	for _, path := range emls {
		for _, p := range calendarParts(f, readFile(f, path)) {
			f.Add(p.data, p.method)
		}
	}
	icss, _ := filepath.Glob("testdata/itip-more/*.ics")
	golden, _ := filepath.Glob("testdata/*.ics")
	for _, path := range append(icss, golden...) {
		f.Add(readFile(f, path), "")
		f.Add(readFile(f, path), "REPLY")
	}
	f.Add(hugeCN(4<<10, true), "COUNTER")
	copenhagen := mustLoad(f, "Europe/Copenhagen")
	f.Fuzz(func(t *testing.T, data []byte, method string) {
		for _, o := range []Options{{}, {Floating: copenhagen, Sender: "lena.hansen@example.dk"}} {
			replies, err := o.ParseReplies(data, method)
			checkReplies(t, replies, err)
		}
	})
}

func checkReplies(t *testing.T, replies []Reply, err error) {
	t.Helper()
	if err != nil {
		if errors.Is(err, errPanic) {
			t.Fatalf("panic: %v", err)
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotReply) && !errors.Is(err, ErrUnknownZone) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if replies != nil {
			t.Fatalf("%d replies with error %v", len(replies), err)
		}
		return
	}
	if len(replies) == 0 {
		t.Fatal("no replies and no error")
	}
	seen := map[string]bool{}
	for _, r := range replies {
		switch {
		case r.Method != MethodReply && r.Method != MethodCounter:
			t.Errorf("Method = %q", r.Method)
		case r.UID == "":
			t.Error("UID empty")
		case seen[replyKey(r)]:
			t.Errorf("key %q twice", replyKey(r))
		case r.Attendee != strings.ToLower(r.Attendee) || strings.Contains(r.Attendee, ":"):
			t.Errorf("Attendee = %q, want a lower-case address", r.Attendee)
		case r.Attendee != "" && !strings.Contains(r.Attendee, "@"):
			t.Errorf("Attendee = %q, want local@domain", r.Attendee)
		case r.Partstat != "" && !validPartstat(r.Partstat):
			t.Errorf("Partstat = %q", r.Partstat)
		case r.RecurrenceID != nil && r.RecurrenceID.Location() != time.UTC:
			t.Errorf("RecurrenceID in %v, want UTC", r.RecurrenceID.Location())
		case r.Proposed != nil && (r.Method != MethodCounter || r.Proposed.End.Before(r.Proposed.Start)):
			t.Errorf("Proposed = %+v for %s", r.Proposed, r.Method)
		case r.Sequence < 0:
			t.Errorf("Sequence = %d", r.Sequence)
		}
		seen[replyKey(r)] = true
	}
}
