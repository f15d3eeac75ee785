-- A login attempt is recorded before its password is checked (so parallel guesses count against
-- each other) as pending; it becomes a failure when the password was wrong and is removed when it
-- was right. Only failures lock an account; pending attempts only make the next one wait its turn.
ALTER TABLE login_failures ADD COLUMN pending BOOLEAN NOT NULL DEFAULT false;
