-- mentord schema 3: what reading needs: the text each prompt sent (to find it quoted
-- in replies), calendar replies and proposals, and bounces.

-- The text/plain body of a prompt's first message: replies are matched against it.
ALTER TABLE prompts ADD COLUMN sent_text TEXT NOT NULL DEFAULT '';

-- The last calendar reply applied per attendee, so an older one is ignored
-- (RFC 5546 section 2.1.5: SEQUENCE first, then DTSTAMP).
ALTER TABLE session_attendees ADD COLUMN reply_sequence INTEGER;
ALTER TABLE session_attendees ADD COLUMN reply_stamp DATETIME;

-- Every calendar answer applied, for the record: who said what about which session.
CREATE TABLE calendar_replies (
	id          INTEGER PRIMARY KEY,
	inbound_id  INTEGER NOT NULL REFERENCES inbound(id) ON DELETE CASCADE,
	session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id   INTEGER NOT NULL REFERENCES people(id),
	method      TEXT NOT NULL CHECK (method IN ('REPLY', 'COUNTER')),
	partstat    TEXT NOT NULL,
	sequence    INTEGER NOT NULL,
	stamp       DATETIME,
	comment     TEXT NOT NULL DEFAULT '',
	received_at DATETIME NOT NULL
);
CREATE INDEX calendar_replies_session ON calendar_replies(session_id);

-- A new time proposed for a session (iTIP COUNTER). Never applied by itself:
-- the mentee and the admin are told, and a person decides.
CREATE TABLE proposals (
	id             INTEGER PRIMARY KEY,
	inbound_id     INTEGER NOT NULL REFERENCES inbound(id) ON DELETE CASCADE,
	session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id      INTEGER NOT NULL REFERENCES people(id),
	proposed_start DATETIME NOT NULL,
	proposed_end   DATETIME NOT NULL,
	location       TEXT NOT NULL DEFAULT '',
	comment        TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined')),
	received_at    DATETIME NOT NULL
);

-- Delivery failures reported back (RFC 3464 DSNs), scored per address.
CREATE TABLE bounces (
	id          INTEGER PRIMARY KEY,
	inbound_id  INTEGER NOT NULL REFERENCES inbound(id) ON DELETE CASCADE,
	person_id   INTEGER REFERENCES people(id),
	address     TEXT NOT NULL COLLATE NOCASE,
	status      TEXT NOT NULL DEFAULT '',      -- X.Y.Z
	permanent   INTEGER NOT NULL CHECK (permanent IN (0, 1)),
	outbox_id   INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
	received_at DATETIME NOT NULL
);
CREATE INDEX bounces_address ON bounces(address, received_at);

-- A logged reply waiting for its acknowledgement, which the schedule's next
-- pass composes and enqueues (so reading the inbox stays light).
ALTER TABLE replies ADD COLUMN ack_wanted INTEGER NOT NULL DEFAULT 0 CHECK (ack_wanted IN (0, 1));
CREATE INDEX replies_ack ON replies(id) WHERE ack_wanted = 1;

CREATE INDEX inbound_session ON inbound(session_id);
CREATE INDEX outbox_envelope ON outbox(envelope_from);
