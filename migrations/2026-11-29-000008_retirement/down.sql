DROP TABLE retired_usernames;
ALTER TABLE users DROP COLUMN retired_at;
