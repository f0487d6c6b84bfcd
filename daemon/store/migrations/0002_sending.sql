-- mentord schema 2: what sending needs: prompts and their reply tokens, the calendar
-- state each attendee was last sent, and outbox bookkeeping.

-- Facts about this database. 'instance' is 128 random bits that make this
-- installation's Message-IDs its own: two databases never mint the same one.
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('instance', lower(hex(randomblob(16))));

-- Whether the mentee chose to share their planning answers with the mentor
-- (in the mentor's brief the day before a session). Off unless they opt in.
ALTER TABLE pairs ADD COLUMN share_plans INTEGER NOT NULL DEFAULT 0 CHECK (share_plans IN (0, 1));

-- One thing mentord asked one person about one session: an invite, a planning
-- checklist, a reflection, a mentor brief. Its messages (the first and a nudge)
-- carry reply tokens that point back here.
CREATE TABLE prompts (
	id          INTEGER PRIMARY KEY,
	session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id   INTEGER NOT NULL REFERENCES people(id),
	purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'checklist', 'reflection', 'brief', 'digest')),
	language    TEXT NOT NULL,
	questions   TEXT NOT NULL DEFAULT '[]',     -- JSON [{"number":1,"text":"..."}]: exactly what was asked
	created_at  DATETIME NOT NULL,
	replied_at  DATETIME,                       -- the first reply that was logged
	UNIQUE (session_id, person_id, purpose)
);

-- Reply tokens, kept only as SHA-256 digests.
CREATE TABLE reply_tokens (
	token_hash TEXT PRIMARY KEY,
	prompt_id  INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
	created_at DATETIME NOT NULL
);
CREATE INDEX reply_tokens_prompt ON reply_tokens(prompt_id);

-- The calendar state last sent to each person for each session: what the next
-- REQUEST or CANCEL must follow (RFC 5546 section 2.1.4).
CREATE TABLE calendar_sent (
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id  INTEGER NOT NULL REFERENCES people(id),
	sequence   INTEGER NOT NULL,
	method     TEXT NOT NULL CHECK (method IN ('REQUEST', 'CANCEL')),
	starts_at  DATETIME NOT NULL,               -- the start that message announced
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (session_id, person_id)
);

ALTER TABLE outbox ADD COLUMN prompt_id INTEGER REFERENCES prompts(id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN envelope_from TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN recipient_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_at DATETIME;
CREATE INDEX outbox_prompt ON outbox(prompt_id);
CREATE INDEX outbox_domain_sent ON outbox(recipient_domain, sent_at) WHERE state = 'sent';
-- When every attendee of a session had been sent its invite: a session still
-- without it is looked at by each pass of the schedule, through the index.
ALTER TABLE sessions ADD COLUMN invited_at DATETIME;
CREATE INDEX sessions_uninvited ON sessions(starts_at) WHERE invited_at IS NULL;
-- Sessions changed since they were planned, for the schedule's pass.
CREATE INDEX sessions_changed ON sessions(starts_at) WHERE sequence > 0;
