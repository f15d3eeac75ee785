//! Coverage: how many valid master trainers and propagandists each organisation has (its own
//! people and those of every organisation below it), what expires soon, who needs a refresher,
//! completions this year and cohorts planned — as JSON, CSV or XLSX.

pub mod certificates;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

use crate::db::organizations::OrganizationRow;
use crate::db::users::OrganizationRef;
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageItem {
    pub organization: OrganizationRef,
    pub master_trainers_valid: i64,
    pub propagandists_valid: i64,
    pub certificates_expiring_90d: i64,
    pub needing_refresher: i64,
    pub completions_this_year: i64,
    pub cohorts_planned: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub as_of: NaiveDate,
    pub items: Vec<CoverageItem>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = SqlUuid)]
    org: Uuid,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every organisation paired with itself and each of its ancestors: a row counted for an
/// organisation counts for all above it.
const ANCESTRY: &str = "WITH RECURSIVE anc(org, ancestor) AS (
        SELECT id, id FROM organizations
        UNION ALL
        SELECT anc.org, o.parent_id FROM anc JOIN organizations o ON o.id = anc.ancestor
        WHERE o.parent_id IS NOT NULL
    )";

fn counts(conn: &mut PgConnection, sql: &str, as_of: NaiveDate) -> QueryResult<HashMap<Uuid, i64>> {
    let rows: Vec<Count> = diesel::sql_query(format!("{ANCESTRY} {sql}"))
        .bind::<Date, _>(as_of)
        .load(conn)?;
    Ok(rows.into_iter().map(|c| (c.org, c.n)).collect())
}

/// The coverage of these organisations (in the order given) as of a day.
pub fn coverage(
    conn: &mut PgConnection,
    organizations: &[OrganizationRow],
    as_of: NaiveDate,
) -> Result<Coverage, AppError> {
    // valid on `as_of`: not revoked or superseded, issued on or before, not yet expired
    let valid = "c.status = 'valid' AND c.issued_on <= $1 AND c.valid_until >= $1";
    let holders = |tier: &str| {
        format!(
            "SELECT anc.ancestor AS org, count(DISTINCT c.holder_id) AS n
             FROM certificates c JOIN users u ON u.id = c.holder_id JOIN anc ON anc.org = u.organization_id
             WHERE c.tier = '{tier}' AND {valid} GROUP BY anc.ancestor"
        )
    };
    let masters = counts(conn, &holders("master_trainer"), as_of)?;
    let propagandists = counts(conn, &holders("propagandist"), as_of)?;
    let expiring = counts(
        conn,
        &format!(
            "SELECT anc.ancestor AS org, count(*) AS n
             FROM certificates c JOIN users u ON u.id = c.holder_id JOIN anc ON anc.org = u.organization_id
             WHERE {valid} AND c.valid_until < $1 + 90 GROUP BY anc.ancestor"
        ),
        as_of,
    )?;
    let refresher = counts(
        conn,
        &format!(
            "SELECT anc.ancestor AS org, count(DISTINCT c.holder_id) AS n
             FROM certificates c JOIN courses k ON k.id = c.course_id
             JOIN users u ON u.id = c.holder_id JOIN anc ON anc.org = u.organization_id
             WHERE {valid} AND k.superseded_by_id IS NOT NULL GROUP BY anc.ancestor"
        ),
        as_of,
    )?;
    let completions = counts(
        conn,
        "SELECT anc.ancestor AS org, count(*) AS n
         FROM enrollments e JOIN cohorts h ON h.id = e.cohort_id
         JOIN users u ON u.id = e.user_id JOIN anc ON anc.org = u.organization_id
         WHERE e.status = 'completed' AND h.ends_on <= $1
           AND date_part('year', h.ends_on) = date_part('year', $1::date)
         GROUP BY anc.ancestor",
        as_of,
    )?;
    let planned = counts(
        conn,
        "SELECT anc.ancestor AS org, count(*) AS n
         FROM cohorts h JOIN anc ON anc.org = h.organization_id
         WHERE h.status IN ('planned', 'open') AND h.starts_on >= $1
         GROUP BY anc.ancestor",
        as_of,
    )?;
    let get = |m: &HashMap<Uuid, i64>, id: &Uuid| m.get(id).copied().unwrap_or(0);
    let items = organizations
        .iter()
        .map(|o| CoverageItem {
            organization: OrganizationRef {
                id: o.id,
                code: o.code.clone(),
                name: o.name.clone(),
            },
            master_trainers_valid: get(&masters, &o.id),
            propagandists_valid: get(&propagandists, &o.id),
            certificates_expiring_90d: get(&expiring, &o.id),
            needing_refresher: get(&refresher, &o.id),
            completions_this_year: get(&completions, &o.id),
            cohorts_planned: get(&planned, &o.id),
        })
        .collect();
    Ok(Coverage { as_of, items })
}

const HEADERS: [&str; 9] = [
    "organization_code",
    "organization_name",
    "master_trainers_valid",
    "propagandists_valid",
    "certificates_expiring_90d",
    "needing_refresher",
    "completions_this_year",
    "cohorts_planned",
    "as_of",
];

fn numbers(i: &CoverageItem) -> [i64; 6] {
    [
        i.master_trainers_valid,
        i.propagandists_valid,
        i.certificates_expiring_90d,
        i.needing_refresher,
        i.completions_this_year,
        i.cohorts_planned,
    ]
}

/// A text cell as a spreadsheet will read it: a cell that begins with `=`, `+`, `-`, `@`, a tab
/// or a carriage return would be taken for a formula (OWASP "CSV injection"), so it gets a
/// leading apostrophe, which spreadsheets show as text. Numbers are written as they are.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// CSV, UTF-8 with a byte-order mark so spreadsheet programs read the Vietnamese names right.
pub fn to_csv(report: &Coverage) -> Result<Vec<u8>, AppError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS).map_err(AppError::internal)?;
        for i in &report.items {
            let mut row = vec![
                spreadsheet_safe(&i.organization.code).into_owned(),
                spreadsheet_safe(&i.organization.name).into_owned(),
            ];
            row.extend(numbers(i).iter().map(|n| n.to_string()));
            row.push(report.as_of.to_string());
            w.write_record(&row).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

pub fn to_xlsx(report: &Coverage) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Coverage").map_err(AppError::internal)?;
    let bold = Format::new().set_bold();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(AppError::internal)?;
    }
    for (r, i) in report.items.iter().enumerate() {
        let r = (r + 1) as u32;
        sheet
            .write_string(r, 0, &i.organization.code)
            .map_err(AppError::internal)?;
        sheet
            .write_string(r, 1, &i.organization.name)
            .map_err(AppError::internal)?;
        for (c, n) in numbers(i).iter().enumerate() {
            sheet
                .write_number(r, (c + 2) as u16, *n as f64)
                .map_err(AppError::internal)?;
        }
        sheet
            .write_string(r, 8, report.as_of.to_string())
            .map_err(AppError::internal)?;
    }
    sheet.set_column_width(1, 45).map_err(AppError::internal)?;
    book.save_to_buffer().map_err(AppError::internal)
}

/// The year of a report, for file names.
pub fn file_stem(as_of: NaiveDate) -> String {
    format!(
        "coverage-{}-{:02}-{:02}",
        as_of.year(),
        as_of.month(),
        as_of.day()
    )
}
