-- mentord schema 5: what trusting received mail needs (issue 10).

-- A message is recognised as read before by its Message-ID, its sender and
-- its content together (dedupe_key), never by the Message-ID alone, which
-- anyone can copy: a stranger's message must not make a genuine one with the
-- same Message-ID "read before". A quarantined message blocks only the very
-- same bytes (raw_hash) read again. inbound is rebuilt to drop the UNIQUE on
-- message_id_hash; migrations run with foreign keys off (store/migrate.go), so
-- the rows that refer to inbound stay.
CREATE TABLE inbound_new (
	id              INTEGER PRIMARY KEY,
	mailbox         TEXT NOT NULL,
	uidvalidity     INTEGER NOT NULL,
	uid             INTEGER NOT NULL,
	message_id      TEXT NOT NULL,
	message_id_hash TEXT NOT NULL,              -- SHA-256 of the Message-ID, or of the raw message when it has none
	dedupe_key      TEXT NOT NULL DEFAULT '',   -- SHA-256 of the Message-ID, the From and the body ('' when read before schema 5)
	raw_hash        TEXT NOT NULL DEFAULT '',   -- SHA-256 of the raw message, line ends as LF ('' when read before schema 5)
	from_addr       TEXT NOT NULL DEFAULT '',
	subject         TEXT NOT NULL DEFAULT '',
	kind            TEXT NOT NULL,              -- reply, auto_reply, bounce, calendar, other
	outcome         TEXT NOT NULL,              -- logged, quarantined, unrelated, ignored
	reason          TEXT NOT NULL DEFAULT '',
	session_id      INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
	person_id       INTEGER REFERENCES people(id) ON DELETE SET NULL,
	raw             BLOB,                       -- compressed original, dropped after the retention period
	received_at     DATETIME NOT NULL,
	UNIQUE (mailbox, uidvalidity, uid)
);
INSERT INTO inbound_new (id, mailbox, uidvalidity, uid, message_id, message_id_hash, from_addr, subject, kind, outcome,
	reason, session_id, person_id, raw, received_at)
	SELECT id, mailbox, uidvalidity, uid, message_id, message_id_hash, from_addr, subject, kind, outcome,
	reason, session_id, person_id, raw, received_at FROM inbound;
DROP TABLE inbound;
ALTER TABLE inbound_new RENAME TO inbound;
CREATE INDEX inbound_session ON inbound(session_id);
CREATE INDEX inbound_dedupe ON inbound(dedupe_key);
CREATE INDEX inbound_message_id ON inbound(message_id_hash) WHERE dedupe_key = '';

-- A bounce counts at most once for each message sent: more reports of one
-- message (a forger's copies, or a server's repeats) add nothing. The
-- repeats counted before go (the first bounce of each message stays); their
-- messages stay recorded in inbound.
DELETE FROM bounces WHERE outbox_id IS NOT NULL
	AND id NOT IN (SELECT MIN(id) FROM bounces WHERE outbox_id IS NOT NULL GROUP BY outbox_id);
CREATE UNIQUE INDEX bounces_outbox ON bounces(outbox_id) WHERE outbox_id IS NOT NULL;

-- A calendar answer with a SEQUENCE above its session's, or stamped in the
-- future, was applied and kept as the last answer, so that every genuine
-- answer after it looked older. Such an answer is no answer now; forget it
-- as the last one applied, so the next genuine answer counts again.
UPDATE session_attendees SET reply_sequence = NULL, reply_stamp = NULL
	WHERE reply_sequence > (SELECT sequence FROM sessions WHERE sessions.id = session_attendees.session_id)
	OR reply_stamp > strftime('%Y-%m-%d %H:%M:%S+00:00', 'now', '+1 day');
