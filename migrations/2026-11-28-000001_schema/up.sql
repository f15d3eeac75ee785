-- Cascade's schema: the domain model of DESIGN.md, with the constraints that make its rules hold
-- in the database itself, whatever the application does.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The 34 provincial-level units (reference data, filled by the next migration).
CREATE TABLE provinces (
    code   TEXT PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
    short  TEXT NOT NULL UNIQUE CHECK (short ~ '^[A-Z]{2,4}$'),
    name   TEXT NOT NULL,
    styled TEXT NOT NULL CHECK (styled IN ('Tỉnh', 'Thành phố'))
);

CREATE TABLE organizations (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code          TEXT NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    name          TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    kind          TEXT NOT NULL CHECK (kind IN ('state_agency', 'implementing_agency', 'branch', 'unit')),
    parent_id     UUID REFERENCES organizations (id),
    province_code TEXT REFERENCES provinces (code),
    signer_name   TEXT,
    signer_title  TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- the national bodies are roots; everything else hangs below something
    CHECK ((kind IN ('state_agency', 'implementing_agency')) = (parent_id IS NULL)),
    -- a provincial branch always knows its province
    CHECK (kind <> 'branch' OR province_code IS NOT NULL),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX organizations_parent_idx ON organizations (parent_id);
-- one branch per province
CREATE UNIQUE INDEX organizations_one_branch_per_province ON organizations (province_code) WHERE kind = 'branch';

CREATE TABLE users (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username        TEXT NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    full_name       TEXT NOT NULL CHECK (length(btrim(full_name)) > 0),
    -- full_name folded to lower case without Vietnamese diacritics, for search
    name_search     TEXT NOT NULL,
    date_of_birth   DATE CHECK (date_of_birth > DATE '1900-01-01'),
    organization_id UUID NOT NULL REFERENCES organizations (id),
    category        TEXT NOT NULL CHECK (category IN ('official', 'civil_servant', 'public_employee', 'reputable_person', 'other')),
    national_id     TEXT UNIQUE CHECK (national_id ~ '^[0-9]{12}$'),
    email           TEXT CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    password_hash   TEXT,
    token_version   INTEGER NOT NULL DEFAULT 0,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX users_organization_idx ON users (organization_id);
CREATE INDEX users_name_search_trgm_idx ON users USING gin (name_search gin_trgm_ops);

CREATE TABLE user_roles (
    user_id UUID NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'hr', 'trainee')),
    PRIMARY KEY (user_id, role)
);

-- Refresh tokens are stored as SHA-256 of the random token; a family is one login's chain of rotations.
CREATE TABLE refresh_tokens (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       UUID NOT NULL REFERENCES users (id),
    family_id     UUID NOT NULL,
    token_hash    BYTEA NOT NULL UNIQUE,
    token_version INTEGER NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Failed logins, for throttling per account and per client address across every process.
CREATE TABLE login_failures (
    id         BIGSERIAL PRIMARY KEY,
    username   TEXT NOT NULL,
    address    TEXT NOT NULL,
    failed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_idx ON login_failures (username, failed_at);
CREATE INDEX login_failures_address_idx ON login_failures (address, failed_at);

CREATE TABLE courses (
    id                          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code                        TEXT NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9._-]{1,31}$'),
    title                       TEXT NOT NULL CHECK (length(btrim(title)) > 0),
    tier                        TEXT NOT NULL CHECK (tier IN ('master_trainer', 'propagandist')),
    curriculum_version          TEXT NOT NULL CHECK (length(btrim(curriculum_version)) > 0),
    required_hours              INTEGER NOT NULL CHECK (required_hours > 0),
    min_attendance_percent      INTEGER NOT NULL CHECK (min_attendance_percent BETWEEN 0 AND 100),
    pass_score                  INTEGER NOT NULL CHECK (pass_score BETWEEN 0 AND 100),
    certificate_validity_months INTEGER NOT NULL CHECK (certificate_validity_months BETWEEN 1 AND 240),
    superseded_by_id            UUID REFERENCES courses (id) CHECK (superseded_by_id <> id),
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE cohorts (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id       UUID NOT NULL REFERENCES courses (id),
    organization_id UUID NOT NULL REFERENCES organizations (id),
    title           TEXT NOT NULL CHECK (length(btrim(title)) > 0),
    starts_on       DATE NOT NULL,
    ends_on         DATE NOT NULL,
    location        TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('in_person', 'online')),
    capacity        INTEGER NOT NULL CHECK (capacity > 0),
    campaign        TEXT,
    status          TEXT NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'open', 'in_progress', 'completed', 'cancelled')),
    finalized_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX cohorts_organization_starts_idx ON cohorts (organization_id, starts_on);
CREATE INDEX cohorts_course_idx ON cohorts (course_id);
CREATE INDEX cohorts_starts_idx ON cohorts (starts_on);

CREATE TABLE cohort_instructors (
    cohort_id   UUID NOT NULL REFERENCES cohorts (id),
    user_id     UUID NOT NULL REFERENCES users (id),
    assigned_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX cohort_instructors_user_idx ON cohort_instructors (user_id);

CREATE TABLE sessions (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    cohort_id  UUID NOT NULL REFERENCES cohorts (id),
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    -- length in minutes, computed by the application from the two instants and checked here
    minutes    INTEGER NOT NULL CHECK (minutes > 0),
    topic      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (minutes = (EXTRACT(EPOCH FROM (ends_at - starts_at)) / 60)::INTEGER)
);
CREATE INDEX sessions_cohort_idx ON sessions (cohort_id, starts_at);

CREATE TABLE enrollments (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    cohort_id          UUID NOT NULL REFERENCES cohorts (id),
    user_id            UUID NOT NULL REFERENCES users (id),
    status             TEXT NOT NULL DEFAULT 'enrolled'
                       CHECK (status IN ('enrolled', 'withdrawn', 'completed', 'failed')),
    score              DOUBLE PRECISION CHECK (score BETWEEN 0 AND 100),
    attendance_percent DOUBLE PRECISION CHECK (attendance_percent BETWEEN 0 AND 100),
    enrolled_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (cohort_id, user_id)
);
CREATE INDEX enrollments_user_idx ON enrollments (user_id);

CREATE TABLE attendance (
    session_id    UUID NOT NULL REFERENCES sessions (id),
    enrollment_id UUID NOT NULL REFERENCES enrollments (id),
    present       BOOLEAN NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, enrollment_id)
);
CREATE INDEX attendance_enrollment_idx ON attendance (enrollment_id);

-- Ed25519 public keys that certificate signatures verify against; retired keys keep verifying.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    public_key BYTEA NOT NULL CHECK (length(public_key) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at TIMESTAMPTZ
);

-- The last serial number used per issuer and year: locked in the issuing transaction so numbers
-- have no gaps and no duplicates.
CREATE TABLE certificate_counters (
    issuer_id   UUID NOT NULL REFERENCES organizations (id),
    year        INTEGER NOT NULL,
    last_number INTEGER NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (issuer_id, year)
);

CREATE TABLE certificates (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    serial             TEXT NOT NULL UNIQUE,
    issuer_id          UUID NOT NULL REFERENCES organizations (id),
    serial_year        INTEGER NOT NULL,
    serial_number      INTEGER NOT NULL CHECK (serial_number > 0),
    verification_code  TEXT NOT NULL UNIQUE CHECK (verification_code ~ '^[A-Z2-7]{26,}$'),
    holder_id          UUID NOT NULL REFERENCES users (id),
    enrollment_id      UUID REFERENCES enrollments (id),
    course_id          UUID NOT NULL REFERENCES courses (id),
    cohort_id          UUID REFERENCES cohorts (id),
    tier               TEXT NOT NULL CHECK (tier IN ('master_trainer', 'propagandist')),
    holder_name        TEXT NOT NULL,
    holder_birth_date  DATE,
    holder_workplace   TEXT NOT NULL,
    course_title       TEXT NOT NULL,
    curriculum_version TEXT NOT NULL,
    issuer_name        TEXT NOT NULL,
    signer_name        TEXT NOT NULL,
    signer_title       TEXT NOT NULL,
    cohort_starts_on   DATE NOT NULL,
    cohort_ends_on     DATE NOT NULL,
    place              TEXT NOT NULL,
    issued_on          DATE NOT NULL,
    valid_until        DATE NOT NULL,
    status             TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'superseded')),
    revocation_reason  TEXT,
    revoked_at         TIMESTAMPTZ,
    supersedes_id      UUID UNIQUE REFERENCES certificates (id),
    claims             BYTEA NOT NULL,
    signature          BYTEA NOT NULL CHECK (length(signature) = 64),
    kid                TEXT NOT NULL REFERENCES signing_keys (kid),
    pdf_sha256         BYTEA CHECK (length(pdf_sha256) = 32),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (issuer_id, serial_year, serial_number),
    CHECK (issued_on >= cohort_ends_on),
    CHECK (valid_until > issued_on),
    CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL))
);
-- one certificate per completed enrolment; a correction supersedes it with a new row
CREATE UNIQUE INDEX certificates_one_per_enrollment ON certificates (enrollment_id) WHERE supersedes_id IS NULL;
CREATE INDEX certificates_holder_idx ON certificates (holder_id);
CREATE INDEX certificates_cohort_idx ON certificates (cohort_id);
CREATE INDEX certificates_issuer_issued_idx ON certificates (issuer_id, issued_on);
CREATE INDEX certificates_valid_until_idx ON certificates (valid_until) WHERE status = 'valid';

-- The instructors' master-trainer certificates at issue time (a tier-2 certificate's lineage).
CREATE TABLE certificate_lineage (
    certificate_id        UUID NOT NULL REFERENCES certificates (id),
    master_certificate_id UUID NOT NULL REFERENCES certificates (id),
    PRIMARY KEY (certificate_id, master_certificate_id)
);
CREATE INDEX certificate_lineage_master_idx ON certificate_lineage (master_certificate_id);

-- A certificate is never deleted, and only its status may change after issue (rule 5).
CREATE FUNCTION certificates_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'certificates are never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.serial, NEW.issuer_id, NEW.serial_year, NEW.serial_number, NEW.verification_code,
        NEW.holder_id, NEW.enrollment_id, NEW.course_id, NEW.cohort_id, NEW.tier, NEW.holder_name,
        NEW.holder_birth_date, NEW.holder_workplace, NEW.course_title, NEW.curriculum_version,
        NEW.issuer_name, NEW.signer_name, NEW.signer_title, NEW.cohort_starts_on, NEW.cohort_ends_on,
        NEW.place, NEW.issued_on, NEW.valid_until, NEW.supersedes_id, NEW.claims, NEW.signature, NEW.kid)
       IS DISTINCT FROM
       (OLD.id, OLD.serial, OLD.issuer_id, OLD.serial_year, OLD.serial_number, OLD.verification_code,
        OLD.holder_id, OLD.enrollment_id, OLD.course_id, OLD.cohort_id, OLD.tier, OLD.holder_name,
        OLD.holder_birth_date, OLD.holder_workplace, OLD.course_title, OLD.curriculum_version,
        OLD.issuer_name, OLD.signer_name, OLD.signer_title, OLD.cohort_starts_on, OLD.cohort_ends_on,
        OLD.place, OLD.issued_on, OLD.valid_until, OLD.supersedes_id, OLD.claims, OLD.signature, OLD.kid)
    THEN
        RAISE EXCEPTION 'a certificate''s claims never change after issue' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'valid' AND NEW.status <> OLD.status THEN
        RAISE EXCEPTION 'only a valid certificate changes status' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.pdf_sha256 IS NOT NULL AND NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256 THEN
        RAISE EXCEPTION 'a certificate''s PDF digest never changes' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER certificates_immutable BEFORE UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_immutable();

CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id    UUID REFERENCES users (id),
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT,
    address     TEXT,
    details     JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at);
