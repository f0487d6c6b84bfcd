package daemon

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/mail/inbox"
)

// benchReplies fills the programme mailbox with n replies to one checklist,
// each with its own Message-ID.
func (ir *imapReading) benchReplies(b *testing.B, round, n int) {
	b.Helper()
	for i := 0; i < n; i++ {
		raw := ir.replyMsg(menteeAddr, ir.token, fmt.Sprintf("bench.%d.%d@mail.example.org", round, i), typedAnswers)
		if err := ir.dev.Deliver("mentoring@example.org", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestIMAP compares reading 10,000 replies from an IMAP mailbox into
// the progress log (fetch, understand, log, move) with a bare fetch of the
// same mailbox, in the same run. The ratio is the figure.
func BenchmarkIngestIMAP(b *testing.B) {
	const n = 10000
	ir := newIMAPReading(b)
	for _, mode := range []string{"bare-fetch", "ingest"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ir.benchReplies(b, i+map[string]int{"bare-fetch": 0, "ingest": 1000}[mode], n)
				c := ir.dial()
				sel, err := c.Select("INBOX", nil).Wait()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if mode == "bare-fetch" {
					bareFetch(b, c, n)
				} else {
					got, err := (&ingest.Reader{DB: ir.db, Cfg: ir.cfg, Tpl: ir.tpl, Log: ir.log, Now: time.Now}).
						ReadFolder(context.Background(), c, inbox.Mailbox{Name: "INBOX", UIDValidity: sel.UIDValidity}, true)
					if err != nil || got != n {
						b.Fatal(got, err)
					}
				}
				total += time.Since(start)
				b.StopTimer()
				c.Close()
				if mode == "bare-fetch" { // empty the mailbox for the next round
					ir.drainOnce(ir.dial())
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
		})
	}
}

// bareFetch reads every message's bytes in batches of 50, as Drain does, and nothing else.
func bareFetch(b *testing.B, c *imapclient.Client, n int) {
	search, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		b.Fatal(err)
	}
	uids := search.AllUIDs()
	got := 0
	for start := 0; start < len(uids); start += 50 {
		section := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(imap.UIDSetNum(uids[start:min(start+50, len(uids))]...),
			&imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			b.Fatal(err)
		}
		got += len(msgs)
	}
	if got != n {
		b.Fatalf("fetched %d of %d", got, n)
	}
}

// BenchmarkReplyLatency measures, with the inbox loop in IDLE on the dev
// server, the time from a reply's delivery to its answers committed in the
// progress log. It reports p50 and p95 over the runs.
func BenchmarkReplyLatency(b *testing.B) {
	ir := newIMAPReading(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ir.d.inboxConn = nil
	go inbox.Watch(ctx, func() inbox.Config { c := connect.IMAPConfig(ir.cfg, nil); c.Password = "x"; return c }(),
		inbox.WatchOptions{Folder: "INBOX", PollInterval: 5 * time.Minute, Log: ir.log}, ir.d.handleInbox)
	time.Sleep(200 * time.Millisecond) // connected and in IDLE
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var before int
		ir.db.R().Get(&before, `SELECT COUNT(*) FROM replies`)
		raw := ir.replyMsg(menteeAddr, ir.token, fmt.Sprintf("lat.%d@mail.example.org", i), typedAnswers)
		start := time.Now()
		if err := ir.dev.Deliver("mentoring@example.org", raw); err != nil {
			b.Fatal(err)
		}
		for {
			var n int
			ir.db.R().Get(&n, `SELECT COUNT(*) FROM replies`)
			if n > before {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatal("the reply was not logged within 10 s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
