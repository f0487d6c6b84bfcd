package admin

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/store"
)

// ErrImportFailed means at least one row was bad, so nothing was imported.
var ErrImportFailed = errors.New("import failed: nothing was imported")

// MaxImportBytes bounds an import file (about 100,000 rows).
const MaxImportBytes = 32 << 20

// importColumns maps each CSV column to its PairInput field; the header may
// spell them with "_" or "-" and in any case.
var importColumns = map[string]func(*PairInput) *string{
	"mentor_name": func(p *PairInput) *string { return &p.MentorName }, "mentor_email": func(p *PairInput) *string { return &p.MentorEmail },
	"mentee_name": func(p *PairInput) *string { return &p.MenteeName }, "mentee_email": func(p *PairInput) *string { return &p.MenteeEmail },
	"start": func(p *PairInput) *string { return &p.Start }, "tz": func(p *PairInput) *string { return &p.TZ },
	"every": func(p *PairInput) *string { return &p.Every }, "sessions": func(p *PairInput) *string { return &p.Sessions },
	"duration": func(p *PairInput) *string { return &p.Duration }, "location": func(p *PairInput) *string { return &p.Location },
	"lang": func(p *PairInput) *string { return &p.Lang }, "mentor_tz": func(p *PairInput) *string { return &p.MentorTZ },
	"mentor_lang": func(p *PairInput) *string { return &p.MentorLang }, "review_every": func(p *PairInput) *string { return &p.ReviewEvery },
	"objectives": func(p *PairInput) *string { return &p.Objectives }, "contact": func(p *PairInput) *string { return &p.Contact },
	"progress": func(p *PairInput) *string { return &p.Progress }, "end": func(p *PairInput) *string { return &p.End },
	"share_plans": func(p *PairInput) *string { return &p.SharePlans },
}

var requiredColumns = []string{"mentor_name", "mentor_email", "mentee_name", "mentee_email", "start", "every", "sessions", "duration", "location"}

// ImportRow is what happened to one row.
type ImportRow struct {
	Line   int      `json:"line"`
	Mentor string   `json:"mentor,omitempty"`
	Mentee string   `json:"mentee,omitempty"`
	Action string   `json:"action"` // created, unchanged, error
	PairID int64    `json:"pair_id,omitempty"`
	Errors []string `json:"errors,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// ImportReport is the result of an import: every row, and whether it was kept.
type ImportReport struct {
	DryRun    bool        `json:"dry_run"`
	Committed bool        `json:"committed"`
	Created   int         `json:"created"`
	Unchanged int         `json:"unchanged"`
	Failed    int         `json:"failed"`
	Rows      []ImportRow `json:"rows"`
}

// Import loads pairs from CSV: a header row naming the columns, then one pair
// per row. It is all or nothing: one bad row and nothing is imported, and the
// report names every bad row with its line. Rows for pairs that already exist
// with the same details change nothing, so importing a file twice is harmless.
// With dryRun everything is checked, nothing is kept.
func (r *Roster) Import(ctx context.Context, src io.Reader, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun}
	inputs, rows, err := readImport(src)
	if err != nil {
		return rep, err
	}
	// Every row is checked against one snapshot of the roster, without the
	// write lock: a dry run, or a file with bad rows, keeps no one waiting
	// (the daemon recording what it sent, an admin's command). A row's pair
	// and its planned sessions are worked out again when it is written
	// rather than kept: for 100,000 rows they would take a gigabyte.
	now := r.now()
	if err := r.checkImport(ctx, inputs, rows, now); err != nil {
		return rep, fmt.Errorf("import: %w", err)
	}
	if rep.count(rows); rep.Failed > 0 || dryRun {
		rep.Rows = rows
		if rep.Failed > 0 {
			return rep, fmt.Errorf("%w (%d of %d rows bad)", ErrImportFailed, rep.Failed, len(rows))
		}
		return rep, nil
	}
	// Then written in one transaction, all or nothing, doing only what the
	// check found and checking each row again: the roster may have changed
	// in between.
	err = r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		// A page cache for the whole write (64 MiB, in this command's
		// process only): the sessions' random calendar UIDs land all over
		// their index, and with the default 2 MiB most pages would be read
		// back and spilled again while the lock is held.
		if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
			return err
		}
		for i := range rows {
			sp, err := inputs[i].validate(r.Cfg, now)
			if err != nil { // cannot happen: checkImport validated it with the same clock
				rows[i].Action, rows[i].Errors = "error", fieldMessages(err)
				continue
			}
			res, err := r.addPairSavepoint(ctx, tx, sp)
			if err != nil {
				rows[i].Action, rows[i].Errors = "error", []string{err.Error()}
				continue
			}
			rows[i].PairID, rows[i].Notes = res.PairID, res.Notes
			rows[i].Action = "unchanged"
			if res.Created {
				rows[i].Action = "created"
			}
		}
		if rep.count(rows); rep.Failed > 0 {
			return ErrImportFailed
		}
		return nil
	})
	rep.Rows = rows
	if err != nil {
		for i := range rep.Rows {
			if rep.Rows[i].Action == "created" {
				rep.Rows[i].PairID = 0 // rolled back: the id was never kept
			}
		}
	}
	switch {
	case err == nil:
		rep.Committed = true
		return rep, nil
	case errors.Is(err, ErrImportFailed):
		return rep, fmt.Errorf("%w (%d of %d rows bad)", ErrImportFailed, rep.Failed, len(rows))
	}
	return rep, fmt.Errorf("import: %w", err)
}

// count sets the report's totals from the rows.
func (rep *ImportReport) count(rows []ImportRow) {
	rep.Created, rep.Unchanged, rep.Failed = 0, 0, 0
	for _, row := range rows {
		switch row.Action {
		case "created":
			rep.Created++
		case "unchanged":
			rep.Unchanged++
		default:
			rep.Failed++
		}
	}
}

// checkImport validates each row and decides its outcome as the import
// would, in one read-only transaction: against the database as it is, plus
// what the rows before it add.
func (r *Roster) checkImport(ctx context.Context, inputs []PairInput, rows []ImportRow, now time.Time) error {
	tx, err := r.DB.R().BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	view := &importView{db: txRoster{tx}, people: map[string]store.Person{}, pairs: map[[2]string]*pairRef{}}
	for i := range rows {
		if rows[i].Action == "error" {
			continue
		}
		sp, err := inputs[i].validate(r.Cfg, now)
		if err != nil {
			rows[i].Action, rows[i].Errors = "error", fieldMessages(err)
			continue
		}
		pl, err := planPair(ctx, view, sp, now)
		switch {
		case errors.Is(err, ErrPairExists), errors.Is(err, ErrInThePast):
			rows[i].Action, rows[i].Errors = "error", []string{err.Error()}
		case err != nil:
			return err // reading the database failed
		case pl.existing != nil:
			rows[i].Action, rows[i].PairID = "unchanged", pl.existing.id
		default:
			rows[i].Action, rows[i].Notes = "created", pl.notes
			view.add(pl, sp, rows[i].Line)
		}
	}
	return nil
}

// importView is the roster an import's rows are checked against: the
// database's snapshot, and the people and pairs the rows before add.
type importView struct {
	db     txRoster
	people map[string]store.Person // new people, by address as the database compares them
	pairs  map[[2]string]*pairRef  // new pairs, by their people's addresses
}

// fold is an address as the people table compares it (COLLATE NOCASE: ASCII
// letters in either case).
func fold(email string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, email)
}

func (v *importView) person(ctx context.Context, email string) (store.Person, bool, error) {
	if p, ok := v.people[fold(email)]; ok {
		return p, true, nil
	}
	return v.db.person(ctx, email)
}

func (v *importView) activePair(ctx context.Context, mentor, mentee store.Person) (*pairRef, error) {
	if p, ok := v.pairs[[2]string{fold(mentor.Email), fold(mentee.Email)}]; ok {
		return p, nil
	}
	return v.db.activePair(ctx, mentor, mentee)
}

// add records what a row that creates its pair adds.
func (v *importView) add(pl pairPlan, sp pairSpec, line int) {
	for _, p := range []store.Person{pl.mentor, pl.mentee} {
		if p.ID == 0 {
			v.people[fold(p.Email)] = p
		}
	}
	v.pairs[[2]string{fold(pl.mentor.Email), fold(pl.mentee.Email)}] = &pairRef{line: line, hash: sp.hash}
}

// addPairSavepoint adds one row inside the import's transaction; a row that
// fails is undone alone, so the others can still be checked against the database.
func (r *Roster) addPairSavepoint(ctx context.Context, tx *sqlx.Tx, sp pairSpec) (AddResult, error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT import_row"); err != nil {
		return AddResult{}, err
	}
	res, err := r.addPair(ctx, tx, sp)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO import_row"); rerr != nil {
			return res, errors.Join(err, rerr)
		}
	}
	if _, rerr := tx.ExecContext(ctx, "RELEASE import_row"); rerr != nil {
		return res, errors.Join(err, rerr)
	}
	return res, err
}

// readImport parses the CSV: comma or semicolon separated (as spreadsheets in
// many European locales write it), an optional UTF-8 byte order mark, lines
// starting with # ignored.
func readImport(src io.Reader) ([]PairInput, []ImportRow, error) {
	data, err := io.ReadAll(io.LimitReader(src, MaxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read import: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, nil, fmt.Errorf("import file is over %d MiB; split it", MaxImportBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	if first, _ := bufio.NewReader(bytes.NewReader(data)).ReadString('\n'); strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("import: the file is empty; the first row must name the columns")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	setters, err := importHeader(header)
	if err != nil {
		return nil, nil, err
	}
	var inputs []PairInput
	var rows []ImportRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("import: %w", err)
		}
		line, _ := cr.FieldPos(0)
		row := ImportRow{Line: line}
		var in PairInput
		if len(rec) != len(header) {
			row.Action, row.Errors = "error", []string{fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))}
		} else {
			for i, v := range rec {
				*setters[i](&in) = v
			}
			row.Mentor, row.Mentee = strings.TrimSpace(in.MentorEmail), strings.TrimSpace(in.MenteeEmail)
		}
		inputs = append(inputs, in)
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, nil, errors.New("import: no rows after the header")
	}
	return inputs, rows, nil
}

func importHeader(header []string) ([]func(*PairInput) *string, error) {
	setters := make([]func(*PairInput) *string, len(header))
	seen := map[string]bool{}
	var problems []string
	for i, h := range header {
		name := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), "-", "_")
		set, ok := importColumns[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("unknown column %q", h))
		case seen[name]:
			problems = append(problems, fmt.Sprintf("column %q appears twice", h))
		}
		seen[name], setters[i] = true, set
	}
	for _, c := range requiredColumns {
		if !seen[c] {
			problems = append(problems, fmt.Sprintf("missing column %q", c))
		}
	}
	if len(problems) > 0 {
		known := make([]string, 0, len(importColumns))
		for k := range importColumns {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("import: line 1: %s (the columns are: %s)", strings.Join(problems, "; "), strings.Join(known, ", "))
	}
	return setters, nil
}

func fieldMessages(err error) []string {
	var ie InputError
	if errors.As(err, &ie) {
		out := make([]string, len(ie))
		for i, f := range ie {
			out[i] = f.Error()
		}
		return out
	}
	return []string{err.Error()}
}
