-- mentord schema 9: the pair runs the relationship (issue 14): the match
-- check, an agreement both confirm, the mentor's own voice.

-- Answers to "Are we the right match?", asked of mentor and mentee each
-- after the chemistry meeting (and again after the next session when the
-- answer was "not sure yet"). Only the admin sees them (pair show; report
-- counts them). answer: yes, unsure or no; reason: the rest of what they
-- wrote. A later answer of the same person supersedes an earlier one.
CREATE TABLE match_answers (
	id          INTEGER PRIMARY KEY,
	pair_id     INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	person_id   INTEGER NOT NULL REFERENCES people(id),
	session_id  INTEGER REFERENCES sessions(id) ON DELETE SET NULL, -- the session the question followed
	inbound_id  INTEGER NOT NULL UNIQUE REFERENCES inbound(id) ON DELETE CASCADE,
	answer      TEXT NOT NULL CHECK (answer IN ('yes', 'unsure', 'no')),
	reason      TEXT NOT NULL DEFAULT '',
	received_at DATETIME NOT NULL
);
CREATE INDEX match_answers_pair ON match_answers(pair_id, person_id, received_at);

-- A "not sure yet" asks the question again after the pair's next session:
-- that session and the person to ask.
CREATE TABLE match_asks (
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id  INTEGER NOT NULL REFERENCES people(id),
	PRIMARY KEY (session_id, person_id)
);

-- The agreement both confirm: mentord drafts version 1 after the chemistry
-- meeting from the mentee's chemistry answers and the pair's agreement row
-- (what `pair add` gave); a reply that changes an item makes the next
-- version, which both confirm again. Once both confirmed a version it is
-- agreed: its items become the pair's agreement row, and a changed cadence,
-- place or length changes the sessions still to come.
CREATE TABLE agreement_versions (
	id              INTEGER PRIMARY KEY,
	pair_id         INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
	version         INTEGER NOT NULL,
	objectives      TEXT NOT NULL DEFAULT '',
	cadence         TEXT NOT NULL,
	location        TEXT NOT NULL DEFAULT '',
	session_minutes INTEGER NOT NULL,
	contact         TEXT NOT NULL DEFAULT '',
	progress        TEXT NOT NULL DEFAULT '',
	review_every    INTEGER NOT NULL DEFAULT 0,
	proposed_by     INTEGER REFERENCES people(id),   -- NULL: mentord's draft
	inbound_id      INTEGER REFERENCES inbound(id) ON DELETE SET NULL, -- the reply that proposed it
	changed         TEXT NOT NULL DEFAULT '',        -- the keys of the items it changed, comma-separated
	created_at      DATETIME NOT NULL,
	agreed_at       DATETIME,                        -- both confirmed
	UNIQUE (pair_id, version)
);

CREATE TABLE agreement_confirmations (
	version_id   INTEGER NOT NULL REFERENCES agreement_versions(id) ON DELETE CASCADE,
	person_id    INTEGER NOT NULL REFERENCES people(id),
	inbound_id   INTEGER REFERENCES inbound(id) ON DELETE SET NULL,
	confirmed_at DATETIME NOT NULL,
	PRIMARY KEY (version_id, person_id)
);

-- Prompts gain two purposes: the match check and the agreement (their reply
-- tokens tie an answer to the one person asked). SQLite changes a CHECK only
-- by building the table again (migrations run with foreign keys off).
CREATE TABLE prompts_new (
	id          INTEGER PRIMARY KEY,
	session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	person_id   INTEGER NOT NULL REFERENCES people(id),
	purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'checklist', 'reflection', 'brief', 'digest', 'match', 'agreement')),
	language    TEXT NOT NULL,
	questions   TEXT NOT NULL DEFAULT '[]',
	created_at  DATETIME NOT NULL,
	replied_at  DATETIME,
	sent_text   TEXT NOT NULL DEFAULT '',
	UNIQUE (session_id, person_id, purpose)
);
INSERT INTO prompts_new (id, session_id, person_id, purpose, language, questions, created_at, replied_at, sent_text)
	SELECT id, session_id, person_id, purpose, language, questions, created_at, replied_at, sent_text FROM prompts;
DROP TABLE prompts;
ALTER TABLE prompts_new RENAME TO prompts;
