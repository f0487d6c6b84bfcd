package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/mentord/mentord/calendar"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/sender"
	"github.com/mentord/mentord/templates"
)

// SendTest sends a sample invite and a sample planning checklist to address at
// once, through the configured SMTP server (not the outbox), so an admin can
// check deliverability and how they look in the organisation's mail client.
// They carry no reply token: an answer to them lands in the unrelated folder.
// It returns the Message-IDs sent.
func SendTest(ctx context.Context, cfg *config.Config, tpl *templates.Set, address string, now time.Time) ([]string, error) {
	if err := mail.CheckHeader(address); err != nil {
		return nil, err
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	day := now.In(loc).AddDate(0, 0, 7)
	start := time.Date(day.Year(), day.Month(), day.Day(), 14, 0, 0, 0, loc)
	you := templates.Person{Name: "Test Recipient", Email: address}
	d := templates.Data{
		Lang: cfg.Defaults.Language, Programme: cfg.Programme.Name, Organisation: cfg.Programme.Organisation,
		Mailbox: cfg.Mailbox.Address, Recipient: you, Mentor: templates.Person{Name: "Sample Mentor", Email: cfg.Mailbox.Address},
		Mentee: you,
		Session: templates.Session{Number: 2, Count: 12, Kind: templates.SessionRegular, Start: start, End: start.Add(time.Hour),
			Zone: loc.String(), Location: "Room 1 (a test: no session is planned)", Minutes: 60},
		Questions: tpl.Questions(cfg.Defaults.Language, "checklist", templates.SessionRegular, false),
	}
	box := cfg.Mailbox
	domain := mail.Domain(box.Address)
	stamp := fmt.Sprintf("%d", now.UnixNano())
	var msgs []*mail.Message
	for _, kind := range []templates.Kind{templates.Invite, templates.Checklist} {
		r, err := tpl.Render(kind, d)
		if err != nil {
			return nil, err
		}
		m := &mail.Message{
			From: mail.Address{Name: box.DisplayName, Email: box.Address}, To: mail.Address{Name: you.Name, Email: address},
			Subject: "[test] " + r.Subject, Date: now, MessageID: mail.MessageID(stamp, "send-test:"+string(kind), domain),
			Text: r.Text, HTML: r.HTML,
		}
		if kind == templates.Invite {
			ics, err := calendar.Request(calendar.Event{
				UID: "mentord-test-" + stamp + "@" + domain, Stamp: now, Start: start, End: start.Add(time.Hour),
				Summary: "[test] " + r.Summary, Description: r.Description, Location: d.Session.Location,
				Organizer: calendar.Person{Name: box.DisplayName, Email: box.Address},
				Attendees: []calendar.Attendee{{Person: calendar.Person{Name: you.Name, Email: address}}},
			})
			if err != nil {
				return nil, err
			}
			m.Calendar = &mail.Calendar{Method: "REQUEST", Data: ics}
		}
		msgs = append(msgs, m)
	}
	tokens, err := connect.NewTokenSource(cfg, nil, nil)
	if err != nil {
		return nil, err
	}
	conn, err := sender.New(connect.SMTPConfig(cfg, tokens), nil).Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var ids []string
	for _, m := range msgs {
		raw, err := m.Bytes()
		if err != nil {
			return ids, err
		}
		env := sender.Envelope{From: mail.BounceAddress(box.Address, box.PlusDelimiter, m.MessageID), To: []string{address}}
		if err := conn.Send(ctx, env, raw); err != nil {
			return ids, err
		}
		ids = append(ids, m.MessageID)
	}
	return ids, nil
}
