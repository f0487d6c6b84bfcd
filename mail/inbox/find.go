package inbox

import (
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Find selects folder and returns the UID of the message whose Message-ID
// header is messageID (with or without angle brackets), if it is there.
func Find(c *imapclient.Client, folder, messageID string) (imap.UID, bool, error) {
	if _, err := awaitValue(c, c.Select(folder, nil).Wait); err != nil {
		return 0, false, fmt.Errorf("imap select %s: %w", folder, err)
	}
	id := "<" + strings.Trim(messageID, "<>") + ">"
	res, err := awaitValue(c, c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait)
	if err != nil {
		return 0, false, fmt.Errorf("imap search %s: %w", folder, err)
	}
	uids := res.AllUIDs()
	if len(uids) == 0 {
		return 0, false, nil
	}
	return uids[0], true, nil
}

// Remove deletes the message uid from the selected folder: \Deleted, then UID
// EXPUNGE where the server has UIDPLUS (so no other deleted message goes with
// it), else EXPUNGE.
func Remove(c *imapclient.Client, uid imap.UID) error {
	set := imap.UIDSetNum(uid)
	if err := await(c, c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close); err != nil {
		return fmt.Errorf("imap store \\Deleted: %w", err)
	}
	if c.Caps().Has(imap.CapUIDPlus) || c.Caps().Has(imap.CapIMAP4rev2) {
		if err := await(c, c.UIDExpunge(set).Close); err != nil {
			return fmt.Errorf("imap uid expunge: %w", err)
		}
		return nil
	}
	if err := await(c, c.Expunge().Close); err != nil {
		return fmt.Errorf("imap expunge: %w", err)
	}
	return nil
}
