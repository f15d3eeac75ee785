// @generated automatically by Diesel CLI.

diesel::table! {
    attendance (session_id, enrollment_id) {
        session_id -> Uuid,
        enrollment_id -> Uuid,
        present -> Bool,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<Text>,
        address -> Nullable<Text>,
        details -> Jsonb,
        subject_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Uuid,
        name -> Text,
        organization_id -> Uuid,
        starts_on -> Date,
        ends_on -> Date,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    certificate_counters (issuer_id, year) {
        issuer_id -> Uuid,
        year -> Int4,
        last_number -> Int4,
    }
}

diesel::table! {
    certificate_lineage (certificate_id, master_certificate_id) {
        certificate_id -> Uuid,
        master_certificate_id -> Uuid,
    }
}

diesel::table! {
    certificates (id) {
        id -> Uuid,
        serial -> Text,
        issuer_id -> Uuid,
        serial_year -> Int4,
        serial_number -> Int4,
        verification_code -> Text,
        holder_id -> Uuid,
        enrollment_id -> Nullable<Uuid>,
        course_id -> Uuid,
        cohort_id -> Nullable<Uuid>,
        tier -> Text,
        holder_name -> Text,
        holder_birth_date -> Nullable<Date>,
        holder_workplace -> Text,
        course_title -> Text,
        curriculum_version -> Text,
        issuer_name -> Text,
        signer_name -> Text,
        signer_title -> Text,
        cohort_starts_on -> Date,
        cohort_ends_on -> Date,
        place -> Text,
        issued_on -> Date,
        valid_until -> Date,
        status -> Text,
        revocation_reason -> Nullable<Text>,
        revoked_at -> Nullable<Timestamptz>,
        supersedes_id -> Nullable<Uuid>,
        claims -> Bytea,
        signature -> Bytea,
        kid -> Text,
        pdf_sha256 -> Nullable<Bytea>,
        created_at -> Timestamptz,
        ended_on -> Nullable<Date>,
    }
}

diesel::table! {
    cohort_instructors (cohort_id, user_id) {
        cohort_id -> Uuid,
        user_id -> Uuid,
        assigned_at -> Timestamptz,
    }
}

diesel::table! {
    cohorts (id) {
        id -> Uuid,
        course_id -> Uuid,
        organization_id -> Uuid,
        title -> Text,
        starts_on -> Date,
        ends_on -> Date,
        location -> Text,
        mode -> Text,
        capacity -> Int4,
        status -> Text,
        finalized_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        campaign_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    courses (id) {
        id -> Uuid,
        code -> Text,
        title -> Text,
        tier -> Text,
        curriculum_version -> Text,
        required_hours -> Int4,
        min_attendance_percent -> Int4,
        pass_score -> Int4,
        certificate_validity_months -> Int4,
        superseded_by_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        superseded_on -> Nullable<Date>,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Uuid,
        cohort_id -> Uuid,
        user_id -> Uuid,
        status -> Text,
        score -> Nullable<Float8>,
        attendance_percent -> Nullable<Float8>,
        enrolled_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        username -> Text,
        address -> Text,
        failed_at -> Timestamptz,
        pending -> Bool,
    }
}

diesel::table! {
    login_sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    organization_tree_version (singleton) {
        singleton -> Bool,
        version -> Int8,
    }
}

diesel::table! {
    organization_targets (organization_id, year) {
        organization_id -> Uuid,
        year -> Int4,
        master_trainers -> Int4,
        propagandists -> Int4,
        updated_by -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    organizations (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Uuid>,
        province_code -> Nullable<Text>,
        signer_name -> Nullable<Text>,
        signer_title -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    outreach_entries (id) {
        id -> Uuid,
        author_id -> Uuid,
        organization_id -> Uuid,
        held_on -> Date,
        province_code -> Text,
        commune -> Nullable<Text>,
        form -> Text,
        audience -> Int4,
        employers_reached -> Nullable<Int4>,
        campaign_id -> Nullable<Uuid>,
        note -> Nullable<Text>,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    outreach_revisions (id) {
        id -> Int8,
        entry_id -> Uuid,
        version -> Int4,
        revised_at -> Timestamptz,
        revised_by -> Nullable<Uuid>,
        previous -> Jsonb,
    }
}

diesel::table! {
    provinces (code) {
        code -> Text,
        short -> Text,
        name -> Text,
        styled -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        token_version -> Int4,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    retired_usernames (username_index) {
        username_index -> Bytea,
        retired_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        cohort_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        minutes -> Int4,
        topic -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        public_key -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Uuid,
        role -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        full_name -> Text,
        name_search -> Text,
        date_of_birth -> Nullable<Date>,
        organization_id -> Uuid,
        category -> Text,
        national_id -> Nullable<Text>,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        token_version -> Int4,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        national_id_cipher -> Nullable<Bytea>,
        national_id_index -> Nullable<Bytea>,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(attendance -> enrollments (enrollment_id));
diesel::joinable!(attendance -> sessions (session_id));
diesel::joinable!(audit_events -> users (actor_id));
diesel::joinable!(campaigns -> organizations (organization_id));
diesel::joinable!(campaigns -> users (created_by));
diesel::joinable!(certificate_counters -> organizations (issuer_id));
diesel::joinable!(certificates -> cohorts (cohort_id));
diesel::joinable!(certificates -> courses (course_id));
diesel::joinable!(certificates -> enrollments (enrollment_id));
diesel::joinable!(certificates -> organizations (issuer_id));
diesel::joinable!(certificates -> signing_keys (kid));
diesel::joinable!(certificates -> users (holder_id));
diesel::joinable!(cohort_instructors -> cohorts (cohort_id));
diesel::joinable!(cohort_instructors -> users (user_id));
diesel::joinable!(cohorts -> campaigns (campaign_id));
diesel::joinable!(cohorts -> courses (course_id));
diesel::joinable!(cohorts -> organizations (organization_id));
diesel::joinable!(enrollments -> cohorts (cohort_id));
diesel::joinable!(enrollments -> users (user_id));
diesel::joinable!(login_sessions -> users (user_id));
diesel::joinable!(organization_targets -> organizations (organization_id));
diesel::joinable!(organization_targets -> users (updated_by));
diesel::joinable!(organizations -> provinces (province_code));
diesel::joinable!(outreach_entries -> campaigns (campaign_id));
diesel::joinable!(outreach_entries -> organizations (organization_id));
diesel::joinable!(outreach_entries -> provinces (province_code));
diesel::joinable!(outreach_entries -> users (author_id));
diesel::joinable!(outreach_revisions -> outreach_entries (entry_id));
diesel::joinable!(outreach_revisions -> users (revised_by));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(sessions -> cohorts (cohort_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(users -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    attendance,
    audit_events,
    campaigns,
    certificate_counters,
    certificate_lineage,
    certificates,
    cohort_instructors,
    cohorts,
    courses,
    enrollments,
    login_failures,
    login_sessions,
    organization_targets,
    organization_tree_version,
    organizations,
    outreach_entries,
    outreach_revisions,
    provinces,
    refresh_tokens,
    retired_usernames,
    sessions,
    signing_keys,
    user_roles,
    users,
);
