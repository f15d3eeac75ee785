-- The person an audit event is about (whose data was read or changed), so that a person's own
-- trail and an administrator's "who saw whom" are one index scan. Events about a user object
-- are about that user.
ALTER TABLE audit_events ADD COLUMN subject_id UUID REFERENCES users (id);
UPDATE audit_events e SET subject_id = u.id
  FROM users u
 WHERE e.object_type = 'user' AND e.object_id = u.id::text;
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, occurred_at)
 WHERE subject_id IS NOT NULL;
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);
