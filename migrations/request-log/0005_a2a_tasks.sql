-- A2A tasks the gateway answered (workers/gateway/src/protocols/a2a/store.ts),
-- kept so the principal that sent one can get it back (GetTask / tasks/get).
-- One row per task; the task itself is dialect-free JSON (at most 256 KiB:
-- a larger one is kept without its result). A row lives 24 h (expires_at);
-- every write deletes a bounded batch of expired rows, and reads skip them.

CREATE TABLE a2a_tasks (
  task_id      TEXT    PRIMARY KEY,          -- UUIDv4 the gateway generated
  principal_id TEXT    NOT NULL,             -- principal that sent the message (key_..., jwt:...); never a key
  agent        TEXT    NOT NULL,             -- agent whose A2A endpoint answered
  created_at   INTEGER NOT NULL,             -- epoch ms
  expires_at   INTEGER NOT NULL,             -- epoch ms; the row is not read after it
  task         TEXT    NOT NULL              -- the task as JSON
);

CREATE INDEX a2a_tasks_expires ON a2a_tasks (expires_at);
