-- A call's usage and, for a streamed answer, how it streamed: the time from
-- the request's arrival to its first event, and the bytes sent to the caller.
-- NULL when not known (a call without usage, an answer that did not stream,
-- rows written before this migration).
ALTER TABLE requests ADD COLUMN tokens INTEGER;
ALTER TABLE requests ADD COLUMN ttfb_ms INTEGER;
ALTER TABLE requests ADD COLUMN bytes_out INTEGER;
