-- Long-running runs (workers/gateway/src/runs/): the listing index of GET /v1/runs. Each run's own Durable
-- Object (AgentRun) holds its authoritative state and result; it writes its row here on every change of
-- status, so the list may lag a run by one failed write (docs/runs.md). The retention cron deletes rows of
-- runs that ended more than RUN_RETENTION_DAYS ago, with their objects' state.

CREATE TABLE runs (
  run_id       TEXT    PRIMARY KEY,          -- run_ and 32 hex (128 random bits)
  principal_id TEXT    NOT NULL,             -- creator (key_..., jwt:...); never a key
  agent        TEXT    NOT NULL,
  task         TEXT    NOT NULL,
  status       TEXT    NOT NULL,             -- queued | running | succeeded | failed | cancelled
  created_at   INTEGER NOT NULL,             -- epoch ms
  finished_at  INTEGER,                      -- epoch ms, once final
  seq          INTEGER NOT NULL,             -- the run's change counter: an older write never overwrites a newer
  summary      TEXT    NOT NULL              -- the run as the list shows it (JSON, without its result)
);

CREATE INDEX runs_principal_created ON runs (principal_id, created_at DESC, run_id DESC);
CREATE INDEX runs_created ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_finished ON runs (finished_at);
