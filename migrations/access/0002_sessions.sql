-- Dashboard sessions (D1 binding ACCESS_DB), owned by the gateway so that a
-- session can end before its cookie does: at logout, when its record is
-- revoked, or when the admin key that bought it stops being an admin key.
-- The session id is a 256-bit random secret held in the dashboard's signed
-- cookie; like a key secret, only its SHA-256 is stored.

CREATE TABLE dashboard_sessions (
  id_hash     TEXT    PRIMARY KEY,             -- lower-case hex SHA-256 of the session id
  principal   TEXT    NOT NULL,                -- principal id of the admin key that signed in (key_...)
  created_at  INTEGER NOT NULL,                -- epoch ms
  expires_at  INTEGER NOT NULL,                -- epoch ms; at most SESSION_MAX_TTL_SECONDS after created_at
  revoked_at  INTEGER                          -- epoch ms; NULL = not revoked (logout sets it)
);

CREATE INDEX dashboard_sessions_principal ON dashboard_sessions (principal);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);
