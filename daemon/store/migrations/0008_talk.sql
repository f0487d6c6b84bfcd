-- mentord schema 8: every message from a participant gets a purpose (issue 13).

-- Messages from participants that need a person: who, when, which pair and
-- why, the content only in the inbound row's raw message (`mentord inbox show`).
-- status: open until the admin releases (re-processes) or dismisses it.
CREATE TABLE kept (
	id          INTEGER PRIMARY KEY,
	inbound_id  INTEGER NOT NULL UNIQUE REFERENCES inbound(id) ON DELETE CASCADE,
	person_id   INTEGER REFERENCES people(id) ON DELETE SET NULL,
	pair_id     INTEGER REFERENCES pairs(id) ON DELETE SET NULL,
	why         TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'released', 'dismissed')),
	created_at  DATETIME NOT NULL,
	settled_at  DATETIME
);
CREATE INDEX kept_open ON kept(created_at) WHERE status = 'open';

-- Check-ins between sessions: written into the sender's own log, tied to the
-- pair's next session. relayable: the sender passed every check (token or
-- thread of ours, or our server's DMARC pass), so a mentee's check-in may go
-- into the mentor's brief when the mentee shares their plans.
CREATE TABLE checkins (
	id          INTEGER PRIMARY KEY,
	inbound_id  INTEGER NOT NULL REFERENCES inbound(id) ON DELETE CASCADE,
	pair_id     INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	person_id   INTEGER NOT NULL REFERENCES people(id),
	session_id  INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
	about       TEXT NOT NULL DEFAULT '',         -- what it answers: '' (a new message), brief, invite, notice, ...
	text        TEXT NOT NULL,
	relayable   INTEGER NOT NULL DEFAULT 0 CHECK (relayable IN (0, 1)),
	received_at DATETIME NOT NULL
);
CREATE INDEX checkins_pair ON checkins(pair_id, received_at);
CREATE INDEX checkins_session ON checkins(session_id);
CREATE INDEX checkins_inbound ON checkins(inbound_id);

-- What participants asked for by email (and the admin by command): pause,
-- resume, move, log, stop. status: done (applied), asked (waiting for the
-- sender to confirm, or for a date to be made clear), refused (with the
-- reason in detail), expired.
CREATE TABLE requests (
	id          INTEGER PRIMARY KEY,
	inbound_id  INTEGER REFERENCES inbound(id) ON DELETE CASCADE,
	pair_id     INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	person_id   INTEGER REFERENCES people(id),
	kind        TEXT NOT NULL CHECK (kind IN ('pause', 'resume', 'move', 'log', 'stop')),
	until       DATETIME,
	status      TEXT NOT NULL CHECK (status IN ('done', 'asked', 'refused', 'expired')),
	detail      TEXT NOT NULL DEFAULT '',
	created_at  DATETIME NOT NULL,
	settled_at  DATETIME
);
CREATE INDEX requests_pair ON requests(pair_id, kind, created_at);
CREATE INDEX requests_person ON requests(person_id, kind, created_at);
CREATE INDEX requests_inbound ON requests(inbound_id);
CREATE INDEX requests_asked ON requests(created_at) WHERE status = 'asked';

-- A pair's pauses: its sessions from from_at to until are cancelled and
-- listed in paused_sessions, to be planned again on resume.
CREATE TABLE pauses (
	id           INTEGER PRIMARY KEY,
	pair_id      INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	from_at      DATETIME NOT NULL,
	until        DATETIME NOT NULL,
	requested_by INTEGER REFERENCES people(id),   -- NULL: the admin
	created_at   DATETIME NOT NULL,
	ended_at     DATETIME,
	CHECK (until > from_at)
);
CREATE UNIQUE INDEX pauses_open ON pauses(pair_id) WHERE ended_at IS NULL;
CREATE TABLE paused_sessions (
	pause_id   INTEGER NOT NULL REFERENCES pauses(id) ON DELETE CASCADE,
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	PRIMARY KEY (pause_id, session_id)
);
CREATE INDEX paused_sessions_session ON paused_sessions(session_id);

-- A proposed new time (a calendar COUNTER, or written) asked of the other
-- person (asked_person_id) until answer_by; source: counter or email;
-- sequence: the session's SEQUENCE it proposes against (a DECLINECOUNTER
-- carries it); settled_reason: why it was accepted or declined. Beside
-- proposals, one row for each proposal that went through this conversation.
CREATE TABLE moves (
	proposal_id     INTEGER PRIMARY KEY REFERENCES proposals(id) ON DELETE CASCADE,
	source          TEXT NOT NULL CHECK (source IN ('counter', 'email')),
	asked_person_id INTEGER REFERENCES people(id),
	asked_at        DATETIME,
	answer_by       DATETIME,
	sequence        INTEGER NOT NULL DEFAULT 0,
	settled_reason  TEXT NOT NULL DEFAULT '',
	settled_at      DATETIME
);
CREATE INDEX moves_asked ON moves(asked_person_id) WHERE settled_at IS NULL;
CREATE INDEX moves_due ON moves(answer_by) WHERE settled_at IS NULL;
