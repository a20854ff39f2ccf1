-- The kinds of personal data the agent found in a call (its Zahara-Pii-Kinds header under the manifest's
-- spec.safety.pii_detection): comma-separated kinds such as "email,phone", never the values. NULL when it found
-- none, does not look, or the row was written before this migration.
ALTER TABLE requests ADD COLUMN pii_kinds TEXT;
