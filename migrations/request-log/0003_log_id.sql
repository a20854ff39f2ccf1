-- Every logged request gets its own key: log_id, a UUID the gateway generates.
-- request_id was the primary key and is the caller's X-Request-Id when they
-- send one, so a caller could overwrite another request's row (and its
-- attempts) by reusing its id. It stays, as an indexed column that several
-- rows may share; GET /v1/requests/:id returns them all.
-- Rows written before this migration keep their request id as their log id
-- (it was unique then).

CREATE TABLE requests_v3 (
  log_id      TEXT    PRIMARY KEY,           -- gateway-generated UUIDv4; never caller-chosen
  request_id  TEXT    NOT NULL,              -- X-Request-Id (caller's if valid, else the gateway's UUIDv4); not unique
  ts          INTEGER NOT NULL,
  key_id      TEXT,                          -- principal id of the caller (key_..., jwt:...); NULL when unauthenticated
  agent       TEXT,
  served_by   TEXT,
  task        TEXT,
  method      TEXT    NOT NULL,
  path        TEXT    NOT NULL,
  status      INTEGER NOT NULL,
  code        TEXT,
  duration_ms INTEGER NOT NULL,
  trace_id    TEXT
);

INSERT INTO requests_v3 (log_id, request_id, ts, key_id, agent, served_by, task, method, path, status, code, duration_ms, trace_id)
  SELECT request_id, request_id, ts, key_id, agent, served_by, task, method, path, status, code, duration_ms, trace_id FROM requests;

CREATE TABLE request_attempts_v3 (
  log_id      TEXT    NOT NULL,              -- requests.log_id
  n           INTEGER NOT NULL,
  agent       TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  status      INTEGER NOT NULL,
  code        TEXT,
  admission   TEXT    NOT NULL,
  latency_ms  INTEGER NOT NULL,
  backoff_ms  INTEGER NOT NULL,
  spans       TEXT,
  PRIMARY KEY (log_id, n)
);

INSERT INTO request_attempts_v3 (log_id, n, agent, attempt, status, code, admission, latency_ms, backoff_ms, spans)
  SELECT request_id, n, agent, attempt, status, code, admission, latency_ms, backoff_ms, spans FROM request_attempts;

DROP TABLE request_attempts;
DROP TABLE requests;
ALTER TABLE requests_v3 RENAME TO requests;
ALTER TABLE request_attempts_v3 RENAME TO request_attempts;

CREATE INDEX requests_ts ON requests (ts);
CREATE INDEX requests_agent_ts ON requests (agent, ts);
CREATE INDEX requests_status_ts ON requests (status, ts);
CREATE INDEX requests_request_id ON requests (request_id, ts);
