DROP INDEX audit_events_occurred_idx;
DROP INDEX audit_events_subject_idx;
ALTER TABLE audit_events DROP COLUMN subject_id;
