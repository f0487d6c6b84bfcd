-- mentord schema 6: queued messages kept compactly and their space given
-- back once sent.

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

-- The sending quotas count sent messages by time: only sent ones are indexed.
DROP INDEX outbox_state_sent;
CREATE INDEX outbox_sent ON outbox(sent_at) WHERE state = 'sent';
