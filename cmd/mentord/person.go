package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/mentord/mentord/daemon/admin"
)

func setupPersonEdit(fs *flag.FlagSet) func(*env, *cmdline) error {
	var in admin.PersonEdit
	fs.StringVar(&in.Email, "email", "", "the new `address`")
	fs.StringVar(&in.Name, "name", "", "the new `name`")
	fs.StringVar(&in.Lang, "lang", "", "the new `language` (en, da)")
	fs.StringVar(&in.TZ, "tz", "", "the new time `zone` (IANA, such as Europe/Copenhagen)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) != 1 {
			return usagef("give exactly one person: an id or an address")
		}
		if in == (admin.PersonEdit{}) {
			return usagef("give at least one of --email, --name, --lang, --tz")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			res, err := r.EditPerson(context.Background(), c.args[0], in)
			if err != nil {
				return err
			}
			return printPerson(e.stdout, c, res)
		})
	}
}

func setupPersonUnsuspend(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) != 1 {
			return usagef("give exactly one person: an id or an address")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			res, err := r.UnsuspendPerson(context.Background(), c.args[0])
			if err != nil {
				return err
			}
			return printPerson(e.stdout, c, res)
		})
	}
}

func printPerson(w io.Writer, c *cmdline, res admin.PersonResult) error {
	if c.json {
		return printJSON(w, res)
	}
	p := res.Person
	fmt.Fprintf(w, "person %d: %s <%s>, %s, %s\n", p.ID, p.Name, p.Email, p.Language, p.Timezone)
	if !res.Changed {
		fmt.Fprintln(w, "nothing changed")
	}
	if res.Readdressed > 0 {
		fmt.Fprintf(w, "%d sessions still to come are sent again to the new address (the other one of each pair gets an update)\n", res.Readdressed)
	}
	if res.Unsuspended {
		fmt.Fprintln(w, "the bounce suspension is lifted: mentord sends to the address again")
	}
	return nil
}
