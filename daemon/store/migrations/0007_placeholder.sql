-- PLACEHOLDER, to be replaced at merge by the ack branch's 0007 (tied_by):
-- the talk branch needs its migration numbered 0008 and the numbers
-- contiguous for its tests. It changes nothing. Delete this file when the
-- ack branch's 0007 is merged (a development database migrated past it by
-- the talk branch alone must then be made anew).
SELECT 1;
