ALTER TABLE certificates DROP CONSTRAINT certificates_ended_when_not_valid;
ALTER TABLE certificates DROP COLUMN ended_on;
DROP TABLE outreach_revisions;
DROP TABLE outreach_entries;
DROP INDEX cohorts_by_campaign;
ALTER TABLE cohorts DROP COLUMN campaign_id;
DROP TABLE campaigns;
DROP TABLE organization_targets;
