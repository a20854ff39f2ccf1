-- Request log of the gateway (D1 binding REQUEST_LOG): one row per request,
-- one row per attempt of the resilient call. Written after the response
-- (waitUntil), read by GET /v1/requests, purged daily by the cron trigger.

CREATE TABLE requests (
  request_id  TEXT    PRIMARY KEY,           -- X-Request-Id (caller's if valid, else a UUIDv4)
  ts          INTEGER NOT NULL,              -- when the request entered the gateway, epoch ms
  key_id      TEXT,                          -- key_<12 hex> derived from the API key; never the key
  agent       TEXT,                          -- agent the request was routed to
  served_by   TEXT,                          -- agent that answered (a fallback, or the routed one)
  task        TEXT,
  method      TEXT    NOT NULL,
  path        TEXT    NOT NULL,
  status      INTEGER NOT NULL,              -- final HTTP status sent to the caller
  code        TEXT,                          -- error code of an error response, else NULL
  duration_ms INTEGER NOT NULL,
  trace_id    TEXT                           -- W3C trace id (32 hex), when known
);

CREATE INDEX requests_ts ON requests (ts);
CREATE INDEX requests_agent_ts ON requests (agent, ts);
CREATE INDEX requests_status_ts ON requests (status, ts);

CREATE TABLE request_attempts (
  request_id  TEXT    NOT NULL,
  n           INTEGER NOT NULL,              -- order within the request, from 1
  agent       TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,              -- attempt number for that agent, from 1
  status      INTEGER NOT NULL,              -- agent HTTP status; 0 when there was none
  code        TEXT,
  admission   TEXT    NOT NULL,              -- admitted | guard_unavailable | the guard's reject reason
  latency_ms  INTEGER NOT NULL,
  backoff_ms  INTEGER NOT NULL,              -- sleep taken before this attempt
  PRIMARY KEY (request_id, n)
);
