package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// checklistReply composes the pair's first checklist (as the daemon would on
// 9 January) and writes the mentee's reply to it into a file.
func (h *harness) checklistReply(id string) string {
	h.t.Helper()
	cfg, err := config.Load(h.config)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	tpl, err := templates.Load("")
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := compose.Plan(ctx, db, cfg, tpl, time.Date(2027, 1, 9, 9, 0, 0, 0, time.UTC), slog.New(slog.DiscardHandler)); err != nil {
		h.t.Fatal(err)
	}
	var packed []byte
	if err := db.R().Get(&packed, `SELECT p.data FROM outbox o JOIN outbox_payloads p ON p.outbox_id = o.id
		WHERE o.kind = 'checklist'`); err != nil {
		h.t.Fatal(err)
	}
	payload, err := store.Unpack(packed)
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(payload))
	if err != nil {
		h.t.Fatal(err)
	}
	raw := strings.ReplaceAll("From: Bo Mentee <bo@example.org>\nTo: "+m.Header.Get("Reply-To")+"\nSubject: Re: "+m.Header.Get("Subject")+
		"\nMessage-ID: <"+id+">\nIn-Reply-To: "+m.Header.Get("Message-Id")+"\nContent-Type: text/plain; charset=UTF-8\n\n"+
		"1. A sparring partner.\n\n2. Delegating.\n", "\n", "\r\n")
	path := filepath.Join(h.t.TempDir(), "reply.eml")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path
}

// A reply that comes after the pair ended is kept for the admin: `mentord
// ingest` says it is late, logs nothing, and `mentord status` lists it.
func TestLateReplyIsShownInStatus(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)
	reply := h.checklistReply("late.1@mail.example.org")
	h.now = time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	h.mustRun("pair", "end", "1")
	h.now = h.now.Add(time.Hour)
	if out := h.mustRun("ingest", reply); !strings.HasPrefix(out, "reply: late (late: replies about session 1 were taken until 2027-01-10 12:00Z, when the pair ended") {
		t.Errorf("mentord ingest of a late reply:\n%s", out)
	}
	if n := h.count("progress_entries"); n != 0 {
		t.Errorf("%d answers logged from a late reply", n)
	}
	out := h.mustRun("status")
	if !strings.Contains(out, "Late       1 replies after their session's reply window") || !strings.Contains(out, "reply from bo@example.org: late: replies about session 1") {
		t.Errorf("mentord status does not show the late reply:\n%s", out)
	}
	var st struct {
		Late []struct {
			Kind, Reason string
		} `json:"late"`
	}
	if err := json.Unmarshal([]byte(h.mustRun("status", "--json")), &st); err != nil || len(st.Late) != 1 {
		t.Errorf("status --json late = %+v, %v", st.Late, err)
	}
}
