-- mentord schema 1: the programme roster, the outbox, the inbound mail and the progress log.
-- Times are UTC, written by the driver as 'YYYY-MM-DD HH:MM:SS+00:00' (whole seconds), so
-- they compare correctly as text.

-- Everyone in the programme, mentor or mentee (a person may be both, in different pairs).
CREATE TABLE people (
	id           INTEGER PRIMARY KEY,
	email        TEXT NOT NULL COLLATE NOCASE UNIQUE,
	name         TEXT NOT NULL,
	timezone     TEXT NOT NULL,                 -- IANA zone, for the times in their mail
	language     TEXT NOT NULL,                 -- en, da, ...
	bounce_score REAL NOT NULL DEFAULT 0,
	suspended_at DATETIME,                      -- sending stopped after repeated bounces
	created_at   DATETIME NOT NULL
);

-- A mentoring relationship.
CREATE TABLE pairs (
	id         INTEGER PRIMARY KEY,
	mentor_id  INTEGER NOT NULL REFERENCES people(id),
	mentee_id  INTEGER NOT NULL REFERENCES people(id),
	status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
	spec_hash  TEXT NOT NULL DEFAULT '',        -- hash of what created it, so adding or importing it again changes nothing
	created_at DATETIME NOT NULL,
	ended_at   DATETIME,
	CHECK (mentor_id <> mentee_id)
);
-- At most one active pair of the same two people.
CREATE UNIQUE INDEX pairs_active ON pairs(mentor_id, mentee_id) WHERE status = 'active';
CREATE INDEX pairs_mentee ON pairs(mentee_id);

-- What the pair agreed at the start: one row per pair.
CREATE TABLE agreements (
	pair_id            INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
	objectives         TEXT NOT NULL DEFAULT '',
	cadence            TEXT NOT NULL,           -- monthly, 2w, 4w, ...
	session_minutes    INTEGER NOT NULL CHECK (session_minutes > 0),
	location           TEXT NOT NULL DEFAULT '',
	contact            TEXT NOT NULL DEFAULT '', -- how they stay in touch between sessions
	progress_recording TEXT NOT NULL DEFAULT '', -- how progress is recorded
	review_every       INTEGER NOT NULL DEFAULT 0 CHECK (review_every >= 0), -- every Nth session reviews the relationship; 0 never
	timezone           TEXT NOT NULL,           -- the zone the sessions are planned in
	starts_at          DATETIME NOT NULL,
	ends_at            DATETIME NOT NULL,
	CHECK (ends_at > starts_at)
);

-- One meeting of a pair, one calendar event (UID) with its own SEQUENCE.
CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	pair_id      INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	number       INTEGER NOT NULL,               -- 1, 2, ... in the order they were planned
	kind         TEXT NOT NULL CHECK (kind IN ('chemistry', 'regular', 'review', 'final')),
	starts_at    DATETIME NOT NULL,
	duration_min INTEGER NOT NULL CHECK (duration_min > 0),
	timezone     TEXT NOT NULL,
	location     TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
	uid          TEXT NOT NULL UNIQUE,           -- iCalendar UID, never reused
	sequence     INTEGER NOT NULL DEFAULT 0,     -- iCalendar SEQUENCE, raised on every significant change
	created_at   DATETIME NOT NULL,
	updated_at   DATETIME NOT NULL,
	UNIQUE (pair_id, number)
);
CREATE INDEX sessions_start ON sessions(starts_at);

-- Each attendee's answer to a session's invite (RFC 5546 PARTSTAT).
CREATE TABLE session_attendees (
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id  INTEGER NOT NULL REFERENCES people(id),
	role       TEXT NOT NULL CHECK (role IN ('mentor', 'mentee')),
	partstat   TEXT NOT NULL DEFAULT 'NEEDS-ACTION'
		CHECK (partstat IN ('NEEDS-ACTION', 'ACCEPTED', 'TENTATIVE', 'DECLINED', 'DELEGATED')),
	replied_at DATETIME,
	PRIMARY KEY (session_id, person_id)
);

-- Mail to send. A row is enqueued once per idempotency key, claimed ('sending')
-- before the SMTP transaction and marked 'sent' right after the server's 250.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	idempotency_key TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL,              -- invite, update, cancel, checklist, reflection, nudge, brief, ...
	pair_id         INTEGER REFERENCES pairs(id) ON DELETE SET NULL,
	session_id      INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
	recipient       TEXT NOT NULL,
	message_id      TEXT NOT NULL UNIQUE,
	payload         BLOB NOT NULL,              -- the complete RFC 5322 message
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at DATETIME NOT NULL,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      DATETIME NOT NULL,
	sent_at         DATETIME
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

-- Every message read from the mailbox, recorded in the same transaction as its effects.
CREATE TABLE inbound (
	id              INTEGER PRIMARY KEY,
	mailbox         TEXT NOT NULL,
	uidvalidity     INTEGER NOT NULL,
	uid             INTEGER NOT NULL,
	message_id      TEXT NOT NULL,
	message_id_hash TEXT NOT NULL UNIQUE,       -- SHA-256 of the Message-ID, or of the raw message when it has none
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

-- How far the inbox has been read.
CREATE TABLE mailbox_cursor (
	mailbox     TEXT PRIMARY KEY,
	uidvalidity INTEGER NOT NULL,
	last_uid    INTEGER NOT NULL
);

-- The whole new text of each reply to a prompt.
CREATE TABLE replies (
	id          INTEGER PRIMARY KEY,
	inbound_id  INTEGER NOT NULL REFERENCES inbound(id) ON DELETE CASCADE,
	session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id   INTEGER NOT NULL REFERENCES people(id),
	prompt_kind TEXT NOT NULL,                  -- checklist, reflection, ...
	new_text    TEXT NOT NULL,
	received_at DATETIME NOT NULL
);

-- The progress log: one row per answered question. A later answer to the same
-- question supersedes an earlier one; the history stays.
CREATE TABLE progress_entries (
	id            INTEGER PRIMARY KEY,
	reply_id      INTEGER NOT NULL REFERENCES replies(id) ON DELETE CASCADE,
	session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id     INTEGER NOT NULL REFERENCES people(id),
	prompt_kind   TEXT NOT NULL,
	question_no   INTEGER NOT NULL,
	question      TEXT NOT NULL,
	answer        TEXT NOT NULL,
	received_at   DATETIME NOT NULL,
	source_msgid  TEXT NOT NULL,
	superseded_by INTEGER REFERENCES progress_entries(id)
);
CREATE INDEX progress_current ON progress_entries(session_id, prompt_kind, question_no) WHERE superseded_by IS NULL;
CREATE INDEX progress_person ON progress_entries(person_id);

-- What the mentee promised to do before the next session, and whether it got done.
CREATE TABLE action_items (
	id                  INTEGER PRIMARY KEY,
	pair_id             INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	session_id          INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, -- promised in this session's plan, due by the next
	progress_entry_id   INTEGER REFERENCES progress_entries(id) ON DELETE SET NULL,
	text                TEXT NOT NULL,
	status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'not_done', 'dropped')),
	reviewed_session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
	created_at          DATETIME NOT NULL,
	updated_at          DATETIME NOT NULL
);
CREATE INDEX action_items_pair ON action_items(pair_id, status);
