-- mentord schema 6: queued messages kept compactly and their space given
-- back once sent; an index for each query the daemon runs per message, per
-- reply or per purged pair.

-- The bytes of a message still to send, packed (store.Pack: DEFLATE with a
-- dictionary of mentord's own messages, about a tenth of their size), in a
-- table of their own: when the message is sent its row is deleted and the
-- pages it used are freed, where an emptied column left an almost empty page
-- of the outbox behind for good. Rows moved here from older schemas keep
-- their bytes as they were; store.Unpack tells the two apart.
CREATE TABLE outbox_payloads (
	outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
	data      BLOB NOT NULL
);
INSERT INTO outbox_payloads (outbox_id, data) SELECT id, payload FROM outbox WHERE length(payload) > 0;
ALTER TABLE outbox DROP COLUMN payload;

-- Acknowledging a reply reads the answers it logged; deleting a reply
-- (purge) looks for its answers.
CREATE INDEX progress_reply ON progress_entries(reply_id);

-- The sending quotas count sent messages by time: only sent ones are indexed.
DROP INDEX outbox_state_sent;
CREATE INDEX outbox_sent ON outbox(sent_at) WHERE state = 'sent';

-- A bounce is matched to its message by the return path, compared without
-- case (a BINARY index cannot serve that, so each bounce read the outbox).
DROP INDEX outbox_envelope;
CREATE INDEX outbox_envelope ON outbox(envelope_from COLLATE NOCASE);

-- Each pass of the outbox fails the messages to suspended addresses.
CREATE INDEX people_suspended ON people(email) WHERE suspended_at IS NOT NULL;

-- A reply's promises replace those made earlier at the same session.
CREATE INDEX action_items_session ON action_items(session_id);

-- Purge (retention) finds a pair's log by session, and deleting a row makes
-- SQLite look for the rows that refer to it (foreign keys): without these
-- each purged pair read whole tables, several times over.
CREATE INDEX progress_session ON progress_entries(session_id);
CREATE INDEX replies_session ON replies(session_id);
CREATE INDEX proposals_session ON proposals(session_id);
CREATE INDEX outbox_session ON outbox(session_id);
CREATE INDEX replies_inbound ON replies(inbound_id);
CREATE INDEX calendar_replies_inbound ON calendar_replies(inbound_id);
CREATE INDEX proposals_inbound ON proposals(inbound_id);
CREATE INDEX bounces_inbound ON bounces(inbound_id);
CREATE INDEX progress_superseded ON progress_entries(superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX action_items_entry ON action_items(progress_entry_id) WHERE progress_entry_id IS NOT NULL;
CREATE INDEX inbound_raw ON inbound(received_at) WHERE raw IS NOT NULL;
