package devserver

import (
	"errors"
	"math"
	"reflect"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// A mailbox's UIDVALIDITY says which numbering its UIDs belong to: a client
// that remembers (UIDVALIDITY, UID) of what it read must never meet the same
// pair naming another message, so a server whose UIDs do not persist must
// give a greater UIDVALIDITY than before (RFC 3501 section 2.3.1.1).
// imapmemserver numbers each user's mailboxes 1, 2, 3, ... in the order they
// are created, so every start of a server that keeps mail in memory would
// give INBOX UIDVALIDITY 1 again, with UIDs from 1 again. So each start
// numbers from a base of its own: at least the clock's seconds (as Dovecot
// takes a new mailbox's creation time), above every earlier start's in this
// process, and above what the client says it remembers (Config.UIDValidityAbove:
// a restart within the same second, or a clock set back, changes nothing).

// lastBase is the base of the latest start in this process.
var lastBase atomic.Uint32

// nextBase returns the base for a new start at now; the first mailbox gets
// base+1, which is above above.
func nextBase(now time.Time, above uint32) uint32 {
	secs := uint32(min(max(now.Unix(), 1), math.MaxUint32-1<<20)) // room above for the mailboxes' numbers
	for {
		last := lastBase.Load()
		base := max(secs, last+1, above)
		if lastBase.CompareAndSwap(last, base) {
			return base
		}
	}
}

// errNoCounter means imapmemserver changed how it numbers mailboxes.
var errNoCounter = errors.New("imapmemserver.User has no prevUidValidity counter of type uint32")

// seedUIDValidity makes u number the mailboxes it creates from base+1.
// imapmemserver offers no way to choose a mailbox's UIDVALIDITY (its User
// keeps the counter unexported); wrapping every response that carries one
// (SELECT, STATUS, APPEND, COPY, and MOVE's and LIST-STATUS's, which the
// session writes itself) would be far more code than setting the counter of
// a user no one holds yet. go.mod pins go-imap; TestUIDValidityIsNewAtEachStart
// fails if the field goes.
func seedUIDValidity(u *imapmemserver.User, base uint32) error {
	f := reflect.ValueOf(u).Elem().FieldByName("prevUidValidity")
	if !f.IsValid() || f.Kind() != reflect.Uint32 {
		return errNoCounter
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().SetUint(uint64(base))
	return nil
}
