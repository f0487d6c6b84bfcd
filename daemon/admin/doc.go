// Package admin is what the programme admin's commands do to the programme,
// beside the running daemon: every operation a `mentord` subcommand calls,
// working on the database and the mail servers directly.
//
// The flow of a change, as `pair add` or `session move`:
//  1. The input (PairInput, a CSV row, a session's new time) is checked whole;
//     a bad field is an InputError naming every problem, and nothing changes.
//  2. The change is made in one transaction on the roster (Roster): people,
//     pairs, agreements and sessions, with the calendar sequence bumped where
//     an invite must be updated.
//  3. Nothing is sent from here: the running daemon notices the commit within
//     seconds and its schedule (daemon/compose) sends what the change calls for.
//
// The rest reads or checks without changing the roster: the views (Pairs,
// Sessions), Status (what the admin checks first; the daemon's own report
// through daemon/health), Preview (every message of a pair as .eml files,
// composed as the schedule would), SendTest and CheckMail (the mail servers,
// signed in to through daemon/connect as the daemon does). It does not import
// the daemon: both are run by cmd/mentord, on the same database.
package admin
