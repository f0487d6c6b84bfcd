package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// The dictionary is part of every packed row: a change would make them
// unreadable. A better one gets a new file and new format numbers.
func TestPayloadDictionaryNeverChanges(t *testing.T) {
	sum := sha256.Sum256(payloadDict1)
	if got := hex.EncodeToString(sum[:]); got != "913c90add6bb74c6cfd6ba9f0682db79398aedd2469bd1d1ce94a0626d5adda0" {
		t.Fatalf("payload1.dict changed (sha256 %s): rows packed with it could not be read", got)
	}
}

// sampleMessage is a message as mentord builds one: headers, text, and a
// base64 part in lines of 76 characters.
func sampleMessage(ics []byte) []byte {
	var b bytes.Buffer
	b.WriteString("Auto-Submitted: auto-generated\r\nMessage-ID: <mentord.0123@example.org>\r\nSubject: Session 3 of 12\r\n" +
		"Content-Type: multipart/mixed;\r\n boundary=bd1c\r\n\r\n--bd1c\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" +
		"Dear Mentee 1\r\n\r\nYou are invited.\r\n\r\n--bd1c\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n")
	b.Write(encodeBase64Lines(ics))
	b.WriteString("\r\n\r\n--bd1c--\r\n")
	return b.Bytes()
}

func TestPackUnpack(t *testing.T) {
	ics := []byte(strings.Repeat("BEGIN:VCALENDAR\r\nUID:mentord-f10291ab@example.org\r\nSUMMARY:Mentoring\r\nEND:VCALENDAR\r\n", 8))
	random := make([]byte, 5000)
	rand.Read(random)
	preview, _ := filepath.Glob("testdata/*.eml")
	cases := map[string][]byte{
		"empty":               {},
		"text":                []byte("Subject: hi\r\n\r\nhello\r\n"),
		"base64 part":         sampleMessage(ics),
		"base64 of 76 bytes":  sampleMessage(ics[:57]),
		"base64 of 1 byte":    sampleMessage(ics[:1]),
		"random":              random,
		"with a NUL":          []byte("a\x00b\r\nQUJD\r\n"),
		"not canonical":       []byte("x\r\n" + base64.StdEncoding.EncodeToString(ics)[:80] + "\r\n" + "QUJD\r\n"),
		"bare line feeds":     bytes.ReplaceAll(sampleMessage(ics), []byte("\r\n"), []byte("\n")),
		"base64 at the end":   bytes.TrimSuffix(sampleMessage(ics), []byte("\r\n\r\n--bd1c--\r\n")),
		"padding in the line": []byte("x\r\n" + strings.Repeat("A", 76) + "\r\nQQ==QQ==\r\n"),
	}
	for _, f := range preview {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(f)] = b
	}
	for name, data := range cases {
		packed := Pack(data)
		got, err := Unpack(packed)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: Unpack(Pack(x)) = %q, %v; want x back", name, got, err)
		}
	}
	// A message from before packing is read as it is.
	if got, err := Unpack([]byte("Subject: old\r\n\r\nbody")); err != nil || string(got) != "Subject: old\r\n\r\nbody" {
		t.Errorf("Unpack(unpacked) = %q, %v", got, err)
	}
	// The base64 part is stored decoded: an invite packs far below its size.
	msg := sampleMessage(ics)
	if _, ok := unwrapBase64(msg); !ok {
		t.Error("the base64 part of a message was not unwrapped")
	}
	for _, bad := range [][]byte{{0}, []byte("\x00M9xxxx"), []byte("\x00M1garbage"), append([]byte(packedUnwrap), Pack(msg)[3:10]...)} {
		if _, err := Unpack(bad); err == nil {
			t.Errorf("Unpack(%q) accepted damaged bytes", bad)
		}
	}
}

// FuzzPack: whatever the bytes, they come back as they went in.
func FuzzPack(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nQUJD\r\n"))
	f.Add(sampleMessage([]byte(strings.Repeat("BEGIN:VEVENT\r\n", 20))))
	f.Add([]byte("x\r\n" + strings.Repeat("A", 76) + "\r\n" + strings.Repeat("B", 76) + "\r\nQQ==\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Unpack(Pack(data))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Unpack(Pack(%q)) = %q, %v", data, got, err)
		}
	})
}

// Upgrading to schema 6 keeps every message still to send, byte for byte,
// and drops nothing else: the sent keep their record, the failed their bytes.
// An upgraded database keeps auto_vacuum off (turning it on needs a VACUUM
// of the whole file; README, Upgrading); a new one has it incremental.
func TestMigrationKeepsQueuedMessages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	newAutoVacuum = "none" // as mentord made databases before schema 6
	old, err := open(ctx, path, migrations[:5])
	newAutoVacuum = "incremental"
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	raw := sampleMessage([]byte(strings.Repeat("BEGIN:VEVENT\r\nEND:VEVENT\r\n", 30)))
	for i, st := range []string{OutboxPending, OutboxSent, OutboxFailed, OutboxPending} {
		payload := raw
		if st == OutboxSent {
			payload = []byte{}
		}
		if _, err := old.w.Exec(`INSERT INTO outbox (idempotency_key, kind, recipient, recipient_domain, message_id, payload, state,
			next_attempt_at, created_at) VALUES (?, 'invite', 'bo@example.org', 'example.org', ?, ?, ?, ?, ?)`,
			fmt.Sprintf("k%d", i), fmt.Sprintf("m%d@example.org", i), payload, st, now, now); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var kept []int64
	if err := db.r.Select(&kept, `SELECT outbox_id FROM outbox_payloads ORDER BY outbox_id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(kept) != "[1 3 4]" {
		t.Errorf("messages with their bytes after the upgrade: %v, want the pending and failed ones [1 3 4]", kept)
	}
	var items []OutboxItem
	err = db.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		items, err = ClaimDue(ctx, tx, now, Limits{Batch: 10})
		return err
	})
	if err != nil || len(items) != 2 {
		t.Fatalf("ClaimDue after the upgrade = %d items, %v; want the 2 pending", len(items), err)
	}
	for _, it := range items {
		if !bytes.Equal(it.Payload, raw) {
			t.Errorf("message %d after the upgrade: %d bytes, not the %d it had", it.ID, len(it.Payload), len(raw))
		}
	}
	if on, err := db.AutoVacuum(ctx); err != nil || on {
		t.Errorf("an upgraded database's auto_vacuum = %v, %v; want it left off", on, err)
	}
	if on, err := openTest(t).AutoVacuum(ctx); err != nil || !on {
		t.Errorf("a new database's auto_vacuum = %v, %v; want incremental", on, err)
	}
}

// A sent message's bytes give their pages back: after a large queue has
// gone, the file is back near its size before it (it kept about a page per
// message for good when the bytes were a column of the outbox).
func TestSentMessagesGiveTheirPagesBack(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	pages := func() int {
		var n int
		if err := db.w.Get(&n, `PRAGMA page_count`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := pages()
	const messages = 500
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		for i := range messages {
			body := make([]byte, 6000) // as large as an invite, and not compressible
			rand.Read(body)
			it := &OutboxItem{Key: fmt.Sprintf("k%d", i), Kind: "invite", Recipient: "bo@example.org", RecipientDomain: "example.org",
				EnvelopeFrom: "mentoring@example.org", MessageID: fmt.Sprintf("m%d@example.org", i), Subject: "Invitation",
				Payload: body, NextAttemptAt: now, CreatedAt: now}
			if _, err := Enqueue(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	queued := pages()
	if queued-before < messages {
		t.Fatalf("%d pages for %d queued messages of 6 KB: the test's messages are too small", queued-before, messages)
	}
	for sent := 0; sent < messages; {
		err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			items, err := ClaimDue(ctx, tx, now, Limits{Batch: 50})
			for _, it := range items {
				if err := MarkSent(ctx, tx, it.ID, now); err != nil {
					return err
				}
			}
			sent += len(items)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for {
		n, err := db.Reclaim(ctx, 200)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// What stays is each message's record (about 300 bytes, indexes
	// included), and the free pages kept for the next messages.
	if after := pages(); after-before > messages*600/4096+reclaimAbove {
		t.Errorf("%d pages before, %d with %d messages queued, %d once sent: the sent keep their space", before, queued, messages, after)
	}
}
