package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/store"
)

// ErrQueued refuses an address change while messages to the old address
// wait to be sent: their bytes carry it, and sending each exactly once
// means they go as they are.
var ErrQueued = errors.New("messages to the old address are still waiting to be sent")

// PersonEdit is what `mentord person edit` changes; an empty field stays.
type PersonEdit struct {
	Email, Name, Lang, TZ string
}

// PersonResult is what an edit or an unsuspension did.
type PersonResult struct {
	Person store.Person `json:"person"`
	// Readdressed: sessions still to come whose invitation goes again, to
	// the new address (and as an update to the other one of the pair).
	Readdressed int  `json:"readdressed_sessions"`
	Unsuspended bool `json:"unsuspended"`
	Changed     bool `json:"changed"`
}

// findPerson reads a person named by id or by address.
func findPerson(ctx context.Context, q store.Querier, ref string) (store.Person, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return store.GetPerson(ctx, q, id)
	}
	return store.GetPersonByEmail(ctx, q, ref)
}

// EditPerson changes a person's address, name, language or time zone, each
// checked exactly as pair add checks it. An address change keeps the history
// (what was sent stays recorded to the old address) and sends nothing twice:
// the outbox keys messages by person, not address. The person's sessions
// still to come are announced again to the new address (a new SEQUENCE, so
// the other one of the pair gets an update with the new attendee), and a
// bounce suspension, which was the old address's, is lifted. It is refused
// while messages to the old address wait in the outbox (ErrQueued).
func (r *Roster) EditPerson(ctx context.Context, ref string, in PersonEdit) (PersonResult, error) {
	var res PersonResult
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		p, err := findPerson(ctx, tx, ref)
		if err != nil {
			return err
		}
		v := &validator{}
		want := p
		if strings.TrimSpace(in.Email) != "" {
			want.Email = v.email("email", in.Email)
		}
		if strings.TrimSpace(in.Name) != "" {
			want.Name = v.name("name", in.Name)
		}
		want.Timezone, _ = v.zone("tz", in.TZ, p.Timezone)
		want.Language = v.lang("lang", in.Lang, p.Language)
		if len(v.errs) > 0 {
			return v.errs
		}
		newAddress := !strings.EqualFold(want.Email, p.Email)
		if newAddress {
			if other, err := store.GetPersonByEmail(ctx, tx, want.Email); err == nil {
				return InputError{{Field: "email", Msg: fmt.Sprintf("%s is already person %d (%s)", want.Email, other.ID, other.Name)}}
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			n, err := store.QueuedTo(ctx, tx, p.Email)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("%w (%d); once `mentord status` shows them sent or failed, change the address again", ErrQueued, n)
			}
		}
		res.Changed = want != p
		if !res.Changed {
			res.Person = p
			return nil
		}
		if err := store.UpdatePerson(ctx, tx, want); err != nil {
			return err
		}
		if newAddress {
			if res.Readdressed, err = store.Readdress(ctx, tx, p.ID, r.now()); err != nil {
				return err
			}
			if res.Unsuspended, err = store.Unsuspend(ctx, tx, p.ID); err != nil {
				return err
			}
		}
		res.Person, err = store.GetPerson(ctx, tx, p.ID)
		return err
	})
	return res, err
}

// UnsuspendPerson lifts a bounce suspension: mentord sends to the address
// again. The bounces stay recorded; three more within 30 days suspend it again.
func (r *Roster) UnsuspendPerson(ctx context.Context, ref string) (PersonResult, error) {
	var res PersonResult
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		p, err := findPerson(ctx, tx, ref)
		if err != nil {
			return err
		}
		if res.Unsuspended, err = store.Unsuspend(ctx, tx, p.ID); err != nil {
			return err
		}
		res.Changed = res.Unsuspended
		res.Person, err = store.GetPerson(ctx, tx, p.ID)
		return err
	})
	return res, err
}
