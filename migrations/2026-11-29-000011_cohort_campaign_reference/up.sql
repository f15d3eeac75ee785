-- Cohorts refer to a campaign (cohorts.campaign_id, 000010); the free-text tag of earlier
-- releases was turned into campaigns there and nothing reads it any more.
ALTER TABLE cohorts DROP COLUMN campaign;
