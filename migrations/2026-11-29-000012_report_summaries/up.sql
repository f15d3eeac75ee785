-- Issue 12: the reports' maintained summaries, kept right in the same transaction as each change
-- (src/db/coverage_summary.rs, src/db/outreach_summary.rs) and recomputed from the base tables by
-- `cascade rebuild-summaries`. `cascade migrate` fills them once, right after this migration.

-- What each person contributes to coverage, at their current organisation: per measure, the
-- days [starts_on, ends_on) on which they count once. `master_trainer`, `propagandist` and
-- `refresher` are the union of their certificates' validity (distinct holders, not
-- certificates); `expiring` one row per certificate (its last 90 days of validity);
-- `completion` one row per completed enrolment (its cohort's last day to the end of that year).
CREATE TABLE coverage_contributions (
    id bigserial PRIMARY KEY,
    holder_id uuid NOT NULL REFERENCES users (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    measure text NOT NULL CHECK (measure IN ('master_trainer', 'propagandist', 'refresher',
                                             'expiring', 'completion')),
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    CHECK (ends_on > starts_on)
);
CREATE INDEX coverage_contributions_by_holder ON coverage_contributions (holder_id);

-- The contributions as changes of a count: +1 on an interval's first day, −1 on the day after
-- its last, summed per organisation and measure over a day ('d'), a month ('m', keyed by its
-- first day) and a year ('y', keyed by 1 January). A count on day D is the sum of the years
-- before D's year, the months of D's year before D's month and the days of D's month up to D.
CREATE TABLE coverage_deltas (
    grain "char" NOT NULL CHECK (grain IN ('d', 'm', 'y')),
    period date NOT NULL,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    measure text NOT NULL,
    delta bigint NOT NULL,
    PRIMARY KEY (grain, period, organization_id, measure)
);
CREATE INDEX coverage_deltas_by_organization ON coverage_deltas (organization_id, grain, period);

-- Outreach that counts (rejected entries do not), per organisation of the entry, form and day
-- ('d'), month ('m', keyed by its first day) or year ('y', keyed by 1 January).
CREATE TABLE outreach_totals (
    grain "char" NOT NULL CHECK (grain IN ('d', 'm', 'y')),
    period date NOT NULL,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    form text NOT NULL,
    activities bigint NOT NULL,
    audience bigint NOT NULL,
    employers bigint NOT NULL,
    PRIMARY KEY (grain, period, organization_id, form)
);
CREATE INDEX outreach_totals_by_organization ON outreach_totals (organization_id, grain, period);

-- Counting entries per author, organisation and month ('m') or year ('y'): who was active.
CREATE TABLE outreach_authors (
    grain "char" NOT NULL CHECK (grain IN ('m', 'y')),
    period date NOT NULL,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    author_id uuid NOT NULL REFERENCES users (id),
    entries integer NOT NULL,
    PRIMARY KEY (grain, period, organization_id, author_id)
);
CREATE INDEX outreach_authors_by_organization ON outreach_authors (organization_id, grain, period);
CREATE INDEX outreach_authors_by_author ON outreach_authors (author_id, grain, period);

-- How many distinct authors were active per organisation (of the entries) and month or year,
-- and at how many organisations each author was active in a month or year: an author active at
-- several organisations below one counts once there (the few such authors are read one by one).
CREATE TABLE outreach_active (
    grain "char" NOT NULL CHECK (grain IN ('m', 'y')),
    period date NOT NULL,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    authors integer NOT NULL,
    PRIMARY KEY (grain, period, organization_id)
);
CREATE TABLE outreach_author_organizations (
    grain "char" NOT NULL CHECK (grain IN ('m', 'y')),
    period date NOT NULL,
    author_id uuid NOT NULL REFERENCES users (id),
    organizations integer NOT NULL,
    PRIMARY KEY (grain, period, author_id)
);
CREATE INDEX outreach_authors_at_several ON outreach_author_organizations (grain, period)
    WHERE organizations > 1;
