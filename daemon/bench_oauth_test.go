package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
)

// BenchmarkStartToFirstSend is the time from starting the daemon to the first
// message the SMTP server accepted, for a pair added before the start: with a
// password, and with OAuth, where the token source fetches the first token
// while the database opens and the schedule composes.
//
//	go test -run XXX -bench StartToFirstSend -benchtime 20x ./daemon/
func BenchmarkStartToFirstSend(b *testing.B) {
	for _, mode := range []string{"password", "oauth"} {
		b.Run(mode, func(b *testing.B) {
			p := startOAuthPeers(b, time.Hour)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var path string
				if mode == "oauth" {
					path, _ = p.config(b, config.AuthXOAUTH2)
				} else {
					path, _ = testConfig(b, "")
				}
				cfg, err := config.Load(path)
				if err != nil {
					b.Fatal(err)
				}
				db, err := store.Open(context.Background(), cfg.Database.Path)
				if err != nil {
					b.Fatal(err)
				}
				addPair(b, &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}, admin.PairInput{MentorName: "Ada", MentorEmail: "ada@example.org",
					MenteeName: "Bo", MenteeEmail: "bo@example.org", TZ: "UTC", Every: "monthly", Sessions: "2",
					Start: time.Now().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04"), Duration: "60m", Location: "Room 1"})
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				b.StartTimer()
				go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: &syncBuffer{}, Notify: func(string) {}}) }()
				for {
					var n int
					if err := db.R().Get(&n, `SELECT COUNT(*) FROM outbox WHERE state = 'sent'`); err != nil {
						b.Fatal(err)
					}
					if n > 0 {
						break
					}
					time.Sleep(time.Millisecond)
				}
				b.StopTimer()
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
		})
	}
}
