-- Issue 12: targets, campaigns, outreach, and the day a certificate stopped counting.

-- How many certified master trainers and propagandists an organisation should have in a year.
CREATE TABLE organization_targets (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    master_trainers integer NOT NULL CHECK (master_trainers >= 0),
    propagandists integer NOT NULL CHECK (propagandists >= 0),
    updated_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, year)
);

-- A campaign (the yearly May month of mobilisation among them) that cohorts and outreach belong to.
CREATE TABLE campaigns (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    UNIQUE (organization_id, name)
);
CREATE INDEX campaigns_by_start ON campaigns (starts_on);

-- Cohorts refer to a campaign; the free-text tag of earlier releases becomes one campaign per
-- organiser and name, spanning its cohorts' days.
ALTER TABLE cohorts ADD COLUMN campaign_id uuid REFERENCES campaigns (id);
INSERT INTO campaigns (name, organization_id, starts_on, ends_on)
SELECT campaign, organization_id, min(starts_on), max(ends_on)
FROM cohorts WHERE campaign IS NOT NULL
GROUP BY campaign, organization_id;
UPDATE cohorts h SET campaign_id = c.id
FROM campaigns c WHERE c.organization_id = h.organization_id AND c.name = h.campaign;
CREATE INDEX cohorts_by_campaign ON cohorts (campaign_id) WHERE campaign_id IS NOT NULL;

-- One outreach activity recorded by a certified propagandist or master trainer. Nothing is
-- deleted: a correction or a rejection keeps the previous values in outreach_revisions.
CREATE TABLE outreach_entries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id uuid NOT NULL REFERENCES users (id),
    -- the author's organisation when the entry was recorded: reports count it there
    organization_id uuid NOT NULL REFERENCES organizations (id),
    held_on date NOT NULL,
    province_code text NOT NULL REFERENCES provinces (code),
    commune text,
    form text NOT NULL CHECK (form IN ('direct_talk', 'conference', 'door_to_door', 'online',
                                       'social_media', 'short_video')),
    audience integer NOT NULL CHECK (audience >= 0),
    employers_reached integer CHECK (employers_reached >= 0),
    campaign_id uuid REFERENCES campaigns (id),
    note text,
    status text NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'rejected')),
    rejection_reason text,
    -- 1 when recorded, +1 with each correction or rejection
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL))
);
CREATE INDEX outreach_by_organization ON outreach_entries (organization_id, held_on);
CREATE INDEX outreach_by_author ON outreach_entries (author_id, held_on);
CREATE INDEX outreach_by_campaign ON outreach_entries (campaign_id) WHERE campaign_id IS NOT NULL;

CREATE TABLE outreach_revisions (
    id bigserial PRIMARY KEY,
    entry_id uuid NOT NULL REFERENCES outreach_entries (id),
    -- the version these previous values had
    version integer NOT NULL,
    revised_at timestamptz NOT NULL DEFAULT now(),
    revised_by uuid REFERENCES users (id),
    -- the entry's fields before the change, as JSON
    previous jsonb NOT NULL,
    UNIQUE (entry_id, version)
);

-- The first day (Vietnam's calendar) on which a revoked or superseded certificate no longer
-- counts: reports "as of" an earlier day still count it as valid.
ALTER TABLE certificates ADD COLUMN ended_on date;
UPDATE certificates SET ended_on = (revoked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
WHERE status = 'revoked';
UPDATE certificates c SET ended_on = s.issued_on
FROM certificates s WHERE s.supersedes_id = c.id AND c.status = 'superseded';
UPDATE certificates SET ended_on = (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
WHERE status <> 'valid' AND ended_on IS NULL;
ALTER TABLE certificates ADD CONSTRAINT certificates_ended_when_not_valid
    CHECK ((status = 'valid') = (ended_on IS NULL));
