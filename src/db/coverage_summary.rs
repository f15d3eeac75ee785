//! The coverage report's maintained summary (migration `report_summaries`): what each person
//! contributes (`coverage_contributions`) and the day-, month- and year-keyed changes of each
//! count per organisation (`coverage_deltas`). Every change to certificates, completions, a
//! person's organisation or a course's supersession calls [`holders_changed`] in its own
//! transaction; [`rebuild`] recomputes everything from the base tables.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Text, Uuid as SqlUuid};
use uuid::Uuid;

/// The measures kept, as stored in `measure`.
pub const MASTER_TRAINER: &str = "master_trainer";
pub const PROPAGANDIST: &str = "propagandist";
pub const REFRESHER: &str = "refresher";
pub const EXPIRING: &str = "expiring";
pub const COMPLETION: &str = "completion";

/// Above this many people, a batch locks the whole summary instead of one lock per person (the
/// lock table holds a few thousand locks at most).
const PER_PERSON_LOCKS: usize = 2_000;

/// Each person's contributions, from the base tables, for the people `cert_filter` (over
/// `c.holder_id`) and `enrolment_filter` (over `e.user_id`) select: validity as the union of
/// each tier's certificates' days `[issued_on, min(valid_until + 1, ended_on))` (distinct
/// holders, not certificates); the same for certificates of a superseded course; each
/// certificate's last 90 days; each completed enrolment from its cohort's last day to the end of
/// that year. Columns: holder_id, organization_id, measure, starts_on, ends_on.
fn contributions(cert_filter: &str, enrolment_filter: &str) -> String {
    format!(
        "WITH cert AS (
             SELECT c.holder_id, u.organization_id AS org, c.tier,
                    k.superseded_on, c.valid_until,
                    c.issued_on AS s,
                    LEAST(c.valid_until + 1, COALESCE(c.ended_on, c.valid_until + 1)) AS e
             FROM certificates c
             JOIN users u ON u.id = c.holder_id
             JOIN courses k ON k.id = c.course_id
             WHERE {cert_filter}
         ),
         iv AS (
             SELECT holder_id, org, tier AS measure, s, e FROM cert WHERE s < e
             UNION ALL
             SELECT holder_id, org, '{REFRESHER}', GREATEST(s, superseded_on), e FROM cert
             WHERE superseded_on IS NOT NULL AND GREATEST(s, superseded_on) < e
         ),
         marked AS (
             SELECT holder_id, org, measure, s, e,
                    CASE WHEN s <= max(e) OVER (PARTITION BY holder_id, measure ORDER BY s, e
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                         THEN 0 ELSE 1 END AS fresh
             FROM iv
         ),
         islands AS (
             SELECT holder_id, org, measure, s, e,
                    sum(fresh) OVER (PARTITION BY holder_id, measure ORDER BY s, e
                                     ROWS UNBOUNDED PRECEDING) AS island
             FROM marked
         )
         SELECT holder_id, org, measure, min(s), max(e)
         FROM islands GROUP BY holder_id, org, measure, island
         UNION ALL
         SELECT holder_id, org, '{EXPIRING}', GREATEST(s, valid_until - 89), e
         FROM cert WHERE GREATEST(s, valid_until - 89) < e
         UNION ALL
         SELECT e.user_id, u.organization_id, '{COMPLETION}', h.ends_on,
                make_date(extract(year FROM h.ends_on)::int + 1, 1, 1)
         FROM enrollments e
         JOIN cohorts h ON h.id = e.cohort_id
         JOIN users u ON u.id = e.user_id
         WHERE e.status = 'completed' AND {enrolment_filter}"
    )
}

/// Day-keyed changes (`org`, `measure`, `day`, `d`) from `events`, summed into the three grains
/// and added to `coverage_deltas` — into an emptied table (`onto_empty`: a plain insert, no
/// conflict to resolve) or onto the counts already there.
fn add_deltas(events: &str, onto_empty: bool) -> String {
    // summed in integers rather than numerics, inserted in the primary key's order (its index
    // grows at one end)
    let merge = if onto_empty {
        ""
    } else {
        "ON CONFLICT (grain, period, organization_id, measure)
         DO UPDATE SET delta = coverage_deltas.delta + excluded.delta"
    };
    format!(
        "byday AS (
             SELECT org, measure, day, sum(d)::int AS d FROM ({events}) ev
             GROUP BY org, measure, day HAVING sum(d) <> 0
         ),
         grained AS (
             SELECT 'd'::\"char\" AS grain, day AS period, org, measure, d FROM byday
             UNION ALL
             SELECT 'm'::\"char\", date_trunc('month', day)::date, org, measure, d FROM byday
             UNION ALL
             SELECT 'y'::\"char\", date_trunc('year', day)::date, org, measure, d FROM byday
         )
         INSERT INTO coverage_deltas (grain, period, organization_id, measure, delta)
         SELECT grain, period, org, measure, sum(d) FROM grained
         GROUP BY grain, period, org, measure HAVING sum(d) <> 0
         ORDER BY grain, period, org, measure
         {merge}"
    )
}

/// Recomputes the contributions of `holders` after a change in the caller's transaction (their
/// certificates issued, revoked, reissued, their enrolments completed, their organisation
/// changed): the old contributions are taken off the counts and the new ones added, in one
/// statement however many people. People are locked first (one at a time in a stable order, or
/// the whole summary for a large batch), so two transactions touching one person queue and the
/// second computes from what the first committed.
pub fn holders_changed(conn: &mut PgConnection, holders: &[Uuid]) -> QueryResult<()> {
    let mut holders = holders.to_vec();
    holders.sort_unstable();
    holders.dedup();
    if holders.is_empty() {
        return Ok(());
    }
    if holders.len() > PER_PERSON_LOCKS {
        diesel::sql_query("LOCK TABLE coverage_contributions IN EXCLUSIVE MODE").execute(conn)?;
    } else {
        diesel::sql_query(
            "SELECT count(pg_advisory_xact_lock(1212, k)) FROM (
                 SELECT DISTINCT hashtext(id::text) AS k FROM unnest($1::uuid[]) AS t(id) ORDER BY k
             ) s",
        )
        .bind::<Array<SqlUuid>, _>(&holders)
        .execute(conn)?;
    }
    let sql = format!(
        "WITH old AS (
             DELETE FROM coverage_contributions WHERE holder_id = ANY($1)
             RETURNING organization_id AS org, measure, starts_on AS s, ends_on AS e
         ),
         new AS (
             INSERT INTO coverage_contributions (holder_id, organization_id, measure, starts_on, ends_on)
             {}
             RETURNING organization_id AS org, measure, starts_on AS s, ends_on AS e
         ),
         {}",
        contributions("c.holder_id = ANY($1)", "e.user_id = ANY($1)"),
        add_deltas(
            "SELECT org, measure, s AS day, -1 AS d FROM old
             UNION ALL SELECT org, measure, e, 1 FROM old
             UNION ALL SELECT org, measure, s, 1 FROM new
             UNION ALL SELECT org, measure, e, -1 FROM new",
            false,
        )
    );
    // the plan must not hinge on statistics that lag behind a table just filled (a nested loop
    // over a freshly grown table costs a full scan per person)
    diesel::sql_query("SET LOCAL enable_nestloop = off").execute(conn)?;
    diesel::sql_query(sql)
        .bind::<Array<SqlUuid>, _>(&holders)
        .execute(conn)?;
    diesel::sql_query("RESET enable_nestloop").execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = SqlUuid)]
    holder_id: Uuid,
}

/// A course was superseded: whoever holds one of its certificates now needs a refresher.
pub fn course_superseded(conn: &mut PgConnection, course_id: Uuid) -> QueryResult<()> {
    let holders: Vec<Holder> =
        diesel::sql_query("SELECT DISTINCT holder_id FROM certificates WHERE course_id = $1")
            .bind::<SqlUuid, _>(course_id)
            .load(conn)?;
    let ids: Vec<Uuid> = holders.into_iter().map(|h| h.holder_id).collect();
    holders_changed(conn, &ids)
}

/// Recomputes the whole coverage summary from the base tables, in the caller's transaction
/// (which should hold the base tables still: see [`crate::reports::summaries::rebuild`]).
/// The number of contributions.
pub fn rebuild(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("TRUNCATE coverage_contributions, coverage_deltas").execute(conn)?;
    let n = diesel::sql_query(format!(
        "INSERT INTO coverage_contributions (holder_id, organization_id, measure, starts_on, ends_on)
         {}",
        contributions("TRUE", "TRUE")
    ))
    .execute(conn)?;
    // the deltas were just emptied
    diesel::sql_query(format!(
        "WITH {}",
        add_deltas(
            "SELECT organization_id AS org, measure, starts_on AS day, 1 AS d
             FROM coverage_contributions
             UNION ALL
             SELECT organization_id, measure, ends_on, -1 FROM coverage_contributions",
            true,
        )
    ))
    .execute(conn)?;
    Ok(n)
}

#[derive(QueryableByName)]
struct MeasureCount {
    #[diesel(sql_type = SqlUuid)]
    organization_id: Uuid,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Each organisation's own counts on `as_of` (not rolled up), by measure (every measure, or
/// only one): the years before `as_of`'s year, the months of its year before its month and the
/// days of its month up to it.
pub fn counts_on(
    conn: &mut PgConnection,
    organizations: &[Uuid],
    as_of: NaiveDate,
    only: Option<&str>,
) -> QueryResult<HashMap<(Uuid, String), i64>> {
    let year = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(as_of);
    let month = as_of.with_day(1).unwrap_or(as_of);
    let rows: Vec<MeasureCount> = diesel::sql_query(
        "SELECT organization_id, measure, sum(delta)::bigint AS n FROM coverage_deltas
         WHERE organization_id = ANY($1)
           AND ((grain = 'y' AND period < $2)
             OR (grain = 'm' AND period >= $2 AND period < $3)
             OR (grain = 'd' AND period >= $3 AND period <= $4))
           AND ($5::text IS NULL OR measure = $5)
         GROUP BY organization_id, measure",
    )
    .bind::<Array<SqlUuid>, _>(organizations)
    .bind::<Date, _>(year)
    .bind::<Date, _>(month)
    .bind::<Date, _>(as_of)
    .bind::<diesel::sql_types::Nullable<Text>, _>(only)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.organization_id, r.measure), r.n))
        .collect())
}

#[derive(QueryableByName)]
struct OrgCount {
    #[diesel(sql_type = SqlUuid)]
    organization_id: Uuid,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn by_organization(rows: Vec<OrgCount>) -> HashMap<Uuid, i64> {
    rows.into_iter().map(|r| (r.organization_id, r.n)).collect()
}

/// Cohorts planned or open that start on or after `as_of`, per organising organisation (not
/// rolled up), of one campaign when given.
pub fn cohorts_planned(
    conn: &mut PgConnection,
    organizations: &[Uuid],
    as_of: NaiveDate,
    campaign_id: Option<Uuid>,
) -> QueryResult<HashMap<Uuid, i64>> {
    let rows: Vec<OrgCount> = diesel::sql_query(
        "SELECT organization_id, count(*)::bigint AS n FROM cohorts
         WHERE organization_id = ANY($1) AND status IN ('planned', 'open') AND starts_on >= $2
           AND ($3::uuid IS NULL OR campaign_id = $3)
         GROUP BY organization_id",
    )
    .bind::<Array<SqlUuid>, _>(organizations)
    .bind::<Date, _>(as_of)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(campaign_id)
    .load(conn)?;
    Ok(by_organization(rows))
}

/// Completed enrolments in the cohorts of one campaign that ended in `as_of`'s year, on or
/// before it, per trainee's current organisation (not rolled up): a campaign's cohorts are few,
/// so this is counted from the base tables.
pub fn campaign_completions(
    conn: &mut PgConnection,
    organizations: &[Uuid],
    as_of: NaiveDate,
    campaign_id: Uuid,
) -> QueryResult<HashMap<Uuid, i64>> {
    let year = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(as_of);
    let rows: Vec<OrgCount> = diesel::sql_query(
        "SELECT u.organization_id, count(*)::bigint AS n
         FROM cohorts h
         JOIN enrollments e ON e.cohort_id = h.id
         JOIN users u ON u.id = e.user_id
         WHERE h.campaign_id = $1 AND e.status = 'completed'
           AND h.ends_on >= $2 AND h.ends_on <= $3 AND u.organization_id = ANY($4)
         GROUP BY u.organization_id",
    )
    .bind::<SqlUuid, _>(campaign_id)
    .bind::<Date, _>(year)
    .bind::<Date, _>(as_of)
    .bind::<Array<SqlUuid>, _>(organizations)
    .load(conn)?;
    Ok(by_organization(rows))
}

/// The summary's rows that count (non-zero), sorted: for comparing with a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
pub struct DeltaRow {
    #[diesel(sql_type = Text)]
    pub grain: String,
    #[diesel(sql_type = Date)]
    pub period: NaiveDate,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub measure: String,
    #[diesel(sql_type = BigInt)]
    pub delta: i64,
}

pub fn nonzero_deltas(conn: &mut PgConnection) -> QueryResult<Vec<DeltaRow>> {
    diesel::sql_query(
        "SELECT grain::text AS grain, period, organization_id, measure, delta FROM coverage_deltas
         WHERE delta <> 0 ORDER BY grain, period, organization_id, measure",
    )
    .load(conn)
}
