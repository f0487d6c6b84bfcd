-- mentord schema 4: the sending quotas count the messages sent in the last
-- minute and the last 24 hours at every claim; without this index each count
-- reads every message ever sent (outbox_due leads with the state alone).
CREATE INDEX outbox_state_sent ON outbox(state, sent_at);
