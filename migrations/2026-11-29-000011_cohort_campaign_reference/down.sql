ALTER TABLE cohorts ADD COLUMN campaign text;
UPDATE cohorts h SET campaign = c.name FROM campaigns c WHERE c.id = h.campaign_id;
