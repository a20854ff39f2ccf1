-- The agent's own steps for each attempt, from its Server-Timing response
-- header: a JSON array of {name, start, dur, desc?} (ms from the agent's
-- request start), or NULL when the agent sent none. Drawn in the Clinic's
-- waterfall under the attempt.

ALTER TABLE request_attempts ADD COLUMN spans TEXT;
