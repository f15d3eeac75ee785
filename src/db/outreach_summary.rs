//! The outreach report's maintained summary (migration `report_summaries`), kept right in the
//! same transaction as each change to an outreach entry: the outreach service calls
//! [`outreach_changed`] on every insert, correction and rejection. `outreach_totals` holds the
//! counting entries per organisation, form and day, month or year; `outreach_authors` the
//! counting entries per author, organisation and month or year; `outreach_active` how many
//! authors were active per organisation and month or year, and `outreach_author_organizations`
//! at how many organisations each author was (so that one active at several counts once).

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

pub use crate::domain::reports::PeriodCut;

/// What one outreach entry contributes to the reports while it counts (rejected entries do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutreachContribution {
    pub organization_id: Uuid,
    pub author_id: Uuid,
    pub held_on: NaiveDate,
    pub form: String,
    pub audience: i32,
    pub employers_reached: i32,
    /// Not kept in the summary: a report of one campaign reads that campaign's entries.
    pub campaign_id: Option<Uuid>,
}

/// Moves the summary from `before` (None: the entry did not count) to `after` (None: it no
/// longer counts), in the caller's transaction: one statement for both. An author's count at
/// an organisation and month or year that leaves or reaches zero moves the active authors.
pub fn outreach_changed(
    conn: &mut PgConnection,
    before: Option<&OutreachContribution>,
    after: Option<&OutreachContribution>,
) -> QueryResult<()> {
    let changes: Vec<(&OutreachContribution, i32)> = before
        .map(|b| (b, -1))
        .into_iter()
        .chain(after.map(|a| (a, 1)))
        .collect();
    if changes.is_empty() || before == after {
        return Ok(());
    }
    let days: Vec<NaiveDate> = changes.iter().map(|(c, _)| c.held_on).collect();
    let orgs: Vec<Uuid> = changes.iter().map(|(c, _)| c.organization_id).collect();
    let forms: Vec<&str> = changes.iter().map(|(c, _)| c.form.as_str()).collect();
    let signs: Vec<i32> = changes.iter().map(|(_, s)| *s).collect();
    let audiences: Vec<i32> = changes.iter().map(|(c, _)| c.audience).collect();
    let employers: Vec<i32> = changes.iter().map(|(c, _)| c.employers_reached).collect();
    let authors: Vec<Uuid> = changes.iter().map(|(c, _)| c.author_id).collect();
    diesel::sql_query(
        "WITH ch AS (
             SELECT * FROM unnest($1::date[], $2::uuid[], $3::text[], $4::int[], $5::int[],
                                  $6::int[], $7::uuid[])
                 AS t(day, org, form, sign, audience, employers, author)
         ),
         totals AS (
             INSERT INTO outreach_totals
                 (grain, period, organization_id, form, activities, audience, employers)
             SELECT g.grain, g.period, ch.org, ch.form, sum(ch.sign),
                    sum(ch.sign::bigint * ch.audience), sum(ch.sign::bigint * ch.employers)
             FROM ch CROSS JOIN LATERAL (VALUES
                     ('d'::\"char\", ch.day),
                     ('m'::\"char\", date_trunc('month', ch.day)::date),
                     ('y'::\"char\", date_trunc('year', ch.day)::date)) AS g(grain, period)
             GROUP BY g.grain, g.period, ch.org, ch.form
             ORDER BY g.grain, g.period, ch.org, ch.form
             ON CONFLICT (grain, period, organization_id, form) DO UPDATE SET
                 activities = outreach_totals.activities + excluded.activities,
                 audience = outreach_totals.audience + excluded.audience,
                 employers = outreach_totals.employers + excluded.employers
             RETURNING 1
         ),
         moved AS (
             SELECT g.grain, g.period, ch.org, ch.author, sum(ch.sign)::int AS d
             FROM ch CROSS JOIN LATERAL (VALUES
                     ('m'::\"char\", date_trunc('month', ch.day)::date),
                     ('y'::\"char\", date_trunc('year', ch.day)::date)) AS g(grain, period)
             GROUP BY g.grain, g.period, ch.org, ch.author
         ),
         authors AS (
             INSERT INTO outreach_authors (grain, period, organization_id, author_id, entries)
             SELECT grain, period, org, author, d FROM moved
             ORDER BY grain, period, org, author
             ON CONFLICT (grain, period, organization_id, author_id)
             DO UPDATE SET entries = outreach_authors.entries + excluded.entries
             RETURNING grain, period, organization_id, author_id, entries
         ),
         crossed AS (
             SELECT a.grain, a.period, a.organization_id, a.author_id,
                    CASE WHEN a.entries > 0 AND a.entries - m.d <= 0 THEN 1
                         WHEN a.entries <= 0 AND a.entries - m.d > 0 THEN -1
                         ELSE 0 END AS t
             FROM authors a JOIN moved m ON m.grain = a.grain AND m.period = a.period
                  AND m.org = a.organization_id AND m.author = a.author_id
         ),
         active AS (
             INSERT INTO outreach_active (grain, period, organization_id, authors)
             SELECT grain, period, organization_id, sum(t) FROM crossed WHERE t <> 0
             GROUP BY grain, period, organization_id ORDER BY grain, period, organization_id
             ON CONFLICT (grain, period, organization_id)
             DO UPDATE SET authors = outreach_active.authors + excluded.authors
             RETURNING 1
         )
         INSERT INTO outreach_author_organizations (grain, period, author_id, organizations)
         SELECT grain, period, author_id, sum(t) FROM crossed WHERE t <> 0
         GROUP BY grain, period, author_id ORDER BY grain, period, author_id
         ON CONFLICT (grain, period, author_id)
         DO UPDATE SET organizations = outreach_author_organizations.organizations
                                       + excluded.organizations",
    )
    .bind::<Array<Date>, _>(&days)
    .bind::<Array<SqlUuid>, _>(&orgs)
    .bind::<Array<Text>, _>(&forms)
    .bind::<Array<Integer>, _>(&signs)
    .bind::<Array<Integer>, _>(&audiences)
    .bind::<Array<Integer>, _>(&employers)
    .bind::<Array<SqlUuid>, _>(&authors)
    .execute(conn)?;
    Ok(())
}

/// Recomputes the outreach summary from the entries, in the caller's transaction. The number
/// of rows per author, organisation and month or year. Each table's rows are written in its
/// primary key's order, so that its index grows at one end.
pub fn rebuild(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "TRUNCATE outreach_totals, outreach_authors, outreach_active,
                  outreach_author_organizations",
    )
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO outreach_totals
             (grain, period, organization_id, form, activities, audience, employers)
         SELECT g.grain, g.period, x.organization_id, x.form, count(*), sum(x.audience),
                sum(COALESCE(x.employers_reached, 0))
         FROM outreach_entries x
         CROSS JOIN LATERAL (VALUES ('d'::\"char\", x.held_on),
                                    ('m'::\"char\", date_trunc('month', x.held_on)::date),
                                    ('y'::\"char\", date_trunc('year', x.held_on)::date))
             AS g(grain, period)
         WHERE x.status = 'recorded'
         GROUP BY g.grain, g.period, x.organization_id, x.form
         ORDER BY g.grain, g.period, x.organization_id, x.form",
    )
    .execute(conn)?;
    let n = diesel::sql_query(
        "INSERT INTO outreach_authors (grain, period, organization_id, author_id, entries)
         SELECT g.grain, g.period, x.organization_id, x.author_id, count(*)
         FROM outreach_entries x
         CROSS JOIN LATERAL (VALUES ('m'::\"char\", date_trunc('month', x.held_on)::date),
                                    ('y'::\"char\", date_trunc('year', x.held_on)::date))
             AS g(grain, period)
         WHERE x.status = 'recorded'
         GROUP BY g.grain, g.period, x.organization_id, x.author_id
         ORDER BY g.grain, g.period, x.organization_id, x.author_id",
    )
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO outreach_active (grain, period, organization_id, authors)
         SELECT grain, period, organization_id, count(*) FROM outreach_authors
         GROUP BY grain, period, organization_id ORDER BY grain, period, organization_id",
    )
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO outreach_author_organizations (grain, period, author_id, organizations)
         SELECT grain, period, author_id, count(*) FROM outreach_authors
         GROUP BY grain, period, author_id ORDER BY grain, period, author_id",
    )
    .execute(conn)?;
    Ok(n)
}

#[derive(QueryableByName)]
struct Around {
    #[diesel(sql_type = Nullable<Date>)]
    last_before: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    next_after: Option<NaiveDate>,
}

/// The last day before `from` (in its year) and the first day after `to` (in its year) on
/// which some outreach counts, anywhere.
pub fn counting_days_around(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    let a: Around = diesel::sql_query(
        "SELECT (SELECT max(period) FROM outreach_totals
                 WHERE grain = 'd' AND period < $1 AND period >= date_trunc('year', $1)::date
                   AND activities <> 0) AS last_before,
                (SELECT min(period) FROM outreach_totals
                 WHERE grain = 'd' AND period > $2
                   AND period < (date_trunc('year', $2) + interval '1 year')::date
                   AND activities <> 0) AS next_after",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .get_result(conn)?;
    Ok((a.last_before, a.next_after))
}

/// The pieces of a cut as SQL over `period` and `grain` (parameters `$2` … `$11`, years, the two
/// month ranges, the two day runs).
const PIECES: &str = "((grain = 'y' AND period >= $2 AND period < $3)
      OR (grain = 'm' AND ((period >= $4 AND period < $5) OR (period >= $6 AND period < $7)))
      OR (grain = 'd' AND ((period >= $8 AND period <= $9) OR (period >= $10 AND period <= $11))))";

macro_rules! bind_cut {
    ($query:expr, $cut:expr) => {
        $query
            .bind::<Date, _>($cut.years.0)
            .bind::<Date, _>($cut.years.1)
            .bind::<Date, _>($cut.months[0].0)
            .bind::<Date, _>($cut.months[0].1)
            .bind::<Date, _>($cut.months[1].0)
            .bind::<Date, _>($cut.months[1].1)
            .bind::<Date, _>($cut.days[0].0)
            .bind::<Date, _>($cut.days[0].1)
            .bind::<Date, _>($cut.days[1].0)
            .bind::<Date, _>($cut.days[1].1)
    };
}

/// One organisation's counting outreach of one form in one month (not rolled up).
#[derive(Debug, Clone, QueryableByName)]
pub struct FormMonth {
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub form: String,
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub activities: i64,
    #[diesel(sql_type = BigInt)]
    pub audience: i64,
    #[diesel(sql_type = BigInt)]
    pub employers: i64,
}

/// The counting outreach of `organizations` in the period, per organisation, form and month,
/// from the summary (or, for one campaign, from the entries of that campaign).
pub fn totals(
    conn: &mut PgConnection,
    organizations: &[Uuid],
    cut: &PeriodCut,
    (from, to): (NaiveDate, NaiveDate),
    campaign_id: Option<Uuid>,
) -> QueryResult<Vec<FormMonth>> {
    match campaign_id {
        Some(campaign) => diesel::sql_query(
            "SELECT organization_id, form, date_trunc('month', held_on)::date AS month,
                    count(*)::bigint AS activities, sum(audience)::bigint AS audience,
                    sum(COALESCE(employers_reached, 0))::bigint AS employers
             FROM outreach_entries
             WHERE campaign_id = $1 AND status = 'recorded' AND held_on BETWEEN $2 AND $3
               AND organization_id = ANY($4)
             GROUP BY 1, 2, 3",
        )
        .bind::<SqlUuid, _>(campaign)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Array<SqlUuid>, _>(organizations)
        .load(conn),
        // a year's row has no month: it is keyed by 1 January (a report of whole years shows
        // its months from the monthly rows instead; see `by_month`)
        None => bind_cut!(
            diesel::sql_query(format!(
                "SELECT organization_id, form, period AS month,
                        sum(activities)::bigint AS activities, sum(audience)::bigint AS audience,
                        sum(employers)::bigint AS employers
                 FROM outreach_totals
                 WHERE organization_id = ANY($1) AND {PIECES}
                 GROUP BY 1, 2, 3 HAVING sum(activities) <> 0"
            ))
            .bind::<Array<SqlUuid>, _>(organizations),
            cut
        )
        .load(conn),
    }
}

#[derive(QueryableByName)]
struct MonthRow {
    #[diesel(sql_type = Date)]
    month: NaiveDate,
    #[diesel(sql_type = BigInt)]
    activities: i64,
    #[diesel(sql_type = BigInt)]
    audience: i64,
}

/// The counting outreach of `organizations` together, per month of the period (whole months
/// from the monthly rows, loose days from the daily ones): (month, activities, audience).
pub fn by_month(
    conn: &mut PgConnection,
    organizations: &[Uuid],
    cut: &PeriodCut,
) -> QueryResult<Vec<(NaiveDate, i64, i64)>> {
    let (a, b) = cut.month_span();
    let rows: Vec<MonthRow> = diesel::sql_query(
        "SELECT date_trunc('month', period)::date AS month, sum(activities)::bigint AS activities,
                sum(audience)::bigint AS audience
         FROM outreach_totals
         WHERE organization_id = ANY($1)
           AND ((grain = 'm' AND period >= $2 AND period < $3)
             OR (grain = 'd' AND ((period >= $4 AND period <= $5) OR (period >= $6 AND period <= $7))))
         GROUP BY 1",
    )
    .bind::<Array<SqlUuid>, _>(organizations)
    .bind::<Date, _>(a)
    .bind::<Date, _>(b)
    .bind::<Date, _>(cut.days[0].0)
    .bind::<Date, _>(cut.days[0].1)
    .bind::<Date, _>(cut.days[1].0)
    .bind::<Date, _>(cut.days[1].1)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.month, r.activities, r.audience))
        .collect())
}

#[derive(QueryableByName)]
struct AuthorRow {
    #[diesel(sql_type = SqlUuid)]
    org: Uuid,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    author: Option<Uuid>,
}

/// Who was active in the period: per organisation of their entries, how many distinct authors
/// (not rolled up); and, for the few authors active at more than one organisation, those
/// organisations (so that a roll-up counts them once).
pub struct ActiveAuthors {
    pub per_organization: HashMap<Uuid, i64>,
    pub at_several: HashMap<Uuid, Vec<Uuid>>,
}

/// Rows `(org, n, NULL)` per organisation and `(org, 0, author)` for authors at several, from
/// the pairs (org, author) of `pairs`.
fn from_pairs(pairs: &str) -> String {
    format!(
        "WITH a AS ({pairs}),
         several AS (SELECT author FROM a GROUP BY author HAVING count(*) > 1)
         SELECT org, count(*)::bigint AS n, NULL::uuid AS author FROM a GROUP BY org
         UNION ALL
         SELECT a.org, 0::bigint, a.author FROM a JOIN several USING (author)"
    )
}

pub fn active_authors(
    conn: &mut PgConnection,
    organizations: &[Uuid],
    cut: &PeriodCut,
    (from, to): (NaiveDate, NaiveDate),
    campaign_id: Option<Uuid>,
) -> QueryResult<ActiveAuthors> {
    let sql = match (campaign_id, cut.single()) {
        (Some(_), _) => from_pairs(
            "SELECT DISTINCT organization_id AS org, author_id AS author FROM outreach_entries
             WHERE campaign_id = $12 AND status = 'recorded' AND held_on BETWEEN $13 AND $14
               AND organization_id = ANY($1)",
        ),
        // one whole month or year: counted as it went
        (None, Some(_)) => {
            "SELECT organization_id AS org, authors::bigint AS n, NULL::uuid AS author
             FROM outreach_active
             WHERE grain = $15::\"char\" AND period = $16 AND organization_id = ANY($1)
               AND authors <> 0
             UNION ALL
             SELECT a.organization_id, 0::bigint, a.author_id
             FROM outreach_author_organizations s
             JOIN outreach_authors a ON a.author_id = s.author_id AND a.grain = s.grain
                  AND a.period = s.period AND a.entries > 0
             WHERE s.grain = $15::\"char\" AND s.period = $16 AND s.organizations > 1
               AND a.organization_id = ANY($1)"
                .to_string()
        }
        (None, None) => from_pairs(
            "SELECT organization_id AS org, author_id AS author FROM outreach_authors
             WHERE organization_id = ANY($1) AND entries > 0
               AND ((grain = 'y' AND period >= $2 AND period < $3)
                 OR (grain = 'm' AND ((period >= $4 AND period < $5)
                                   OR (period >= $6 AND period < $7))))
             UNION
             SELECT organization_id, author_id FROM outreach_entries
             WHERE organization_id = ANY($1) AND status = 'recorded'
               AND ((held_on >= $8 AND held_on <= $9) OR (held_on >= $10 AND held_on <= $11))",
        ),
    };
    let (grain, period) = cut.single().unwrap_or(('d', from));
    let rows: Vec<AuthorRow> = bind_cut!(
        diesel::sql_query(sql).bind::<Array<SqlUuid>, _>(organizations),
        cut
    )
    .bind::<Nullable<SqlUuid>, _>(campaign_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Text, _>(grain.to_string())
    .bind::<Date, _>(period)
    .load(conn)?;
    let mut out = ActiveAuthors {
        per_organization: HashMap::new(),
        at_several: HashMap::new(),
    };
    for r in rows {
        match r.author {
            None => {
                out.per_organization.insert(r.org, r.n);
            }
            Some(author) => out.at_several.entry(author).or_default().push(r.org),
        }
    }
    Ok(out)
}

/// The summary's rows that count, sorted, as text: for comparing with a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
pub struct SummaryRow {
    #[diesel(sql_type = Text)]
    pub row: String,
}

pub fn nonzero_rows(conn: &mut PgConnection) -> QueryResult<Vec<SummaryRow>> {
    diesel::sql_query(
        "SELECT concat_ws(' ', grain, period, organization_id, form, activities, audience,
                          employers) AS row
         FROM outreach_totals WHERE (activities, audience, employers) <> (0, 0, 0)
         UNION ALL
         SELECT concat_ws(' ', 'a', grain, period, organization_id, author_id, entries)
         FROM outreach_authors WHERE entries <> 0
         UNION ALL
         SELECT concat_ws(' ', 'n', grain, period, organization_id, authors)
         FROM outreach_active WHERE authors <> 0
         UNION ALL
         SELECT concat_ws(' ', 's', grain, period, author_id, organizations)
         FROM outreach_author_organizations WHERE organizations <> 0
         ORDER BY 1",
    )
    .load(conn)
}
