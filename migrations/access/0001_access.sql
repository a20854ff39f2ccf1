-- Access control of the gateway (D1 binding ACCESS_DB): managed API keys and
-- the admin audit log. A key's secret is never stored: only its SHA-256.

-- One row per managed key: its identity, scopes and limits. The id is stable
-- across rotations (limits, logs and the audit log follow it).
CREATE TABLE api_keys (
  id                  TEXT    PRIMARY KEY,     -- key_<16 hex>
  name                TEXT    NOT NULL,
  scopes              TEXT    NOT NULL,        -- JSON array: "agent:capability", "agent:*", "*:capability", "*", "admin", "metrics"
  rate_limit          TEXT,                    -- JSON {"requests", "period_seconds", "burst"}; NULL = the agent's per-key default
  daily_token_budget  INTEGER,                 -- tokens per UTC day per agent; NULL = unlimited
  created_at          INTEGER NOT NULL,        -- epoch ms
  created_by          TEXT    NOT NULL,        -- principal id of the admin who created it
  expires_at          INTEGER,                 -- epoch ms; NULL = never
  revoked_at          INTEGER,                 -- epoch ms; NULL = not revoked
  last_used_at        INTEGER                  -- epoch ms, updated at most once a minute per isolate
);

-- The secrets of a key: one normally, two during a rotation's grace period.
CREATE TABLE api_key_secrets (
  hash        TEXT    PRIMARY KEY,             -- lower-case hex SHA-256 of the secret
  key_id      TEXT    NOT NULL REFERENCES api_keys (id),
  prefix      TEXT    NOT NULL,                -- first characters of the secret, for display (zk_XXXXXXXX)
  created_at  INTEGER NOT NULL,
  not_after   INTEGER                          -- set when rotated: the end of the grace period
);

CREATE INDEX api_key_secrets_key ON api_key_secrets (key_id);

-- Every admin action: who, what, when. Never a secret.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  ts          INTEGER NOT NULL,                -- epoch ms
  actor       TEXT    NOT NULL,                -- principal id (key_..., jwt:<sub>)
  action      TEXT    NOT NULL,                -- key.create, key.update, key.rotate, key.revoke, breaker.open, breaker.close, breaker.reset
  target      TEXT,                            -- key id or agent name
  request_id  TEXT    NOT NULL,
  client_ip   TEXT,
  details     TEXT                             -- JSON (names, scopes, prefixes, grace); never a secret
);

CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_target_ts ON audit_log (target, ts);
