-- Retirement: a person who leaves the system keeps their row (their enrolments and certificates
-- point at it), but their login ends for good and their personal fields are erased.
ALTER TABLE users ADD COLUMN retired_at TIMESTAMPTZ;

-- The usernames of retired people, as a keyed hash (never the name itself): nobody may take one
-- again, and a dump of the table does not say who they were.
CREATE TABLE retired_usernames (
    username_index BYTEA PRIMARY KEY,
    retired_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
