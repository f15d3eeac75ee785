-- A session is one login: its access tokens carry its id, and its refresh tokens share it as
-- their family. Ending one session (logout) or all others (password change) is a row update.
CREATE TABLE login_sessions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX login_sessions_user_idx ON login_sessions (user_id) WHERE revoked_at IS NULL;
