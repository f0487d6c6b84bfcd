-- mentord schema 7 (issue 12): a reply to any message mentord reads replies
-- to is read against that message's own text; each answer says how it was
-- tied to its question; the acknowledgement joins the mentee's thread.

-- How each answer was tied to its question (mail/reply Tie): number, inline,
-- late-number, topic or order; '' for answers logged before schema 7. The
-- acknowledgement shows the answers read without a number, so a guess never
-- goes unseen.
ALTER TABLE progress_entries ADD COLUMN tied_by TEXT NOT NULL DEFAULT '';

-- The text/plain body of each message sent about a checklist or reflection
-- other than the prompt's first (whose text is prompts.sent_text): nudges and
-- acknowledgements. A reply that quotes one without '>' (Outlook) is read
-- against it. Packed (store.Pack); kept while replies about the session are
-- taken (timings.reply_window), then dropped by the daily retention.
CREATE TABLE sent_texts (
	outbox_id  INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	data       BLOB NOT NULL
);
CREATE INDEX sent_texts_session ON sent_texts(session_id);

-- The message that carried each reply token, so a reply by token is read
-- against that message (NULL for tokens made before schema 7: the prompt's).
ALTER TABLE reply_tokens ADD COLUMN outbox_id INTEGER REFERENCES outbox(id) ON DELETE SET NULL;

-- The thread of each reply, for its acknowledgement's In-Reply-To and
-- References (RFC 5322 section 3.6.4): the reply's References and then its
-- own Message-ID, space-separated, each a valid msg-id without angle
-- brackets; '' when it had no valid Message-ID.
ALTER TABLE replies ADD COLUMN thread TEXT NOT NULL DEFAULT '';
