-- Hosted agents: manifest-only agents uploaded at runtime (PUT /v1/agents/:name) and served by the one
-- hosted-agent Worker. Each upload is a new immutable version; the head row points at the version served.

-- One row per name ever uploaded. current_version NULL: deleted (last_version keeps numbering monotonic,
-- so a re-created agent never reuses a version number an isolate may still cache).
CREATE TABLE hosted_agents (
  name             TEXT    PRIMARY KEY,
  current_version  INTEGER,                  -- the version served; NULL = deleted
  last_version     INTEGER NOT NULL,         -- highest version number given out
  updated_at       INTEGER NOT NULL,         -- epoch ms
  updated_by       TEXT    NOT NULL,         -- principal id
  write_token      TEXT    NOT NULL          -- random per change: ties a version row to the change that made it
);

-- Every kept version: the text as uploaded and the manifest as served (normalized JSON).
CREATE TABLE hosted_agent_versions (
  name          TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  source        TEXT    NOT NULL,            -- the upload, byte for byte (YAML or JSON)
  content_type  TEXT    NOT NULL,            -- application/yaml or application/json
  manifest      TEXT    NOT NULL,            -- JSON of the validated manifest, with the hosted binding
  digest        TEXT    NOT NULL,            -- SHA-256 hex of manifest
  created_at    INTEGER NOT NULL,
  created_by    TEXT    NOT NULL,
  PRIMARY KEY (name, version)
);
