DROP TABLE outreach_author_organizations;
DROP TABLE outreach_active;
DROP TABLE outreach_authors;
DROP TABLE outreach_totals;
DROP TABLE coverage_deltas;
DROP TABLE coverage_contributions;
