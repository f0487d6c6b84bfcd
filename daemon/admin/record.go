package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// RecordPDF makes the record for promotion of a pair for its mentor or its
// mentee (role), as it stands at now, in that person's language: the same
// page the pair's two people get by mail when it completes. It changes
// nothing and may be made for any pair, completed or not.
func RecordPDF(ctx context.Context, db *store.DB, cfg *config.Config, tpl *templates.Set, pairID int64, role string, now time.Time) ([]byte, error) {
	p, err := store.GetPair(ctx, db.R(), pairID)
	if err != nil {
		return nil, err
	}
	person := p.MentorID
	switch role {
	case store.RoleMentor:
	case store.RoleMentee:
		person = p.MenteeID
	default:
		return nil, InputError{{Field: "for", Msg: "must be mentor or mentee"}}
	}
	d, err := compose.New(cfg, tpl, db, now).RecordData(ctx, pairID, person)
	if err != nil {
		return nil, fmt.Errorf("record of pair %d: %w", pairID, err)
	}
	_, doc, err := compose.RecordPDF(tpl, d)
	return doc, err
}
