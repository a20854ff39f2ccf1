-- The API a logged request spoke: 'http' (Zahara's own /execute), 'mcp' or
-- 'a2a'. NULL for requests that make no call (admin, listing, refused before
-- routing) and for rows written before this migration.
ALTER TABLE requests ADD COLUMN protocol TEXT;
