//! Reports: coverage of the programme and outreach results per organisation in the caller's
//! scope, rolled up the tree; the rebuild of their summaries.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::refuse;
use crate::auth::current_user::Actor;
use crate::db::organizations as orgs;
use crate::db::organizations::OrganizationRow;
use crate::db::Db;
use crate::domain::reports::check_period;
use crate::error::AppError;
use crate::reports::{self, outreach, Coverage, OutreachReport};
use crate::service::campaigns::visible_campaign;

/// The forms a report is downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

impl ReportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Some(ReportFormat::Json),
            "csv" => Some(ReportFormat::Csv),
            "xlsx" => Some(ReportFormat::Xlsx),
            _ => None,
        }
    }
}

/// A report in the form asked for.
pub enum Export<T = Coverage> {
    Json(T),
    /// The bytes, and the file name.
    File {
        bytes: Vec<u8>,
        file_name: String,
        content_type: &'static str,
    },
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl<T> Export<T> {
    /// The report, or its CSV or XLSX file (rendering a spreadsheet is blocking work: called on
    /// the blocking thread that read the report).
    fn make(
        report: T,
        format: ReportFormat,
        stem: String,
        csv: fn(&T) -> Result<Vec<u8>, AppError>,
        xlsx: fn(&T) -> Result<Vec<u8>, AppError>,
    ) -> Result<Self, AppError> {
        Ok(match format {
            ReportFormat::Json => Export::Json(report),
            ReportFormat::Csv => Export::File {
                bytes: csv(&report)?,
                file_name: format!("{stem}.csv"),
                content_type: "text/csv; charset=utf-8",
            },
            ReportFormat::Xlsx => Export::File {
                bytes: xlsx(&report)?,
                file_name: format!("{stem}.xlsx"),
                content_type: XLSX,
            },
        })
    }
}

/// Who may read reports, in what format, about which organisations: checked before any read.
async fn admit(
    db: &Db,
    actor: &Actor,
    organization_id: Option<Uuid>,
    format: &str,
    action: &'static str,
) -> Result<ReportFormat, AppError> {
    if !crate::domain::access::manages_people(&actor.roles) {
        return Err(refuse(db, actor, action).await);
    }
    let format = ReportFormat::parse(format)
        .ok_or_else(|| AppError::validation("format", "Định dạng phải là json, csv hoặc xlsx."))?;
    if let Some(org) = organization_id {
        if !actor.scope.covers_organization(org) {
            return Err(AppError::NotFound);
        }
    }
    Ok(format)
}

/// In one read-only snapshot: the organisations reported on (the subtree of `organization_id`,
/// else the caller's scope) in tree order, then `read` over them.
fn in_snapshot<T>(
    conn: &mut PgConnection,
    actor: &Actor,
    organization_id: Option<Uuid>,
    campaign_id: Option<Uuid>,
    read: impl FnOnce(&mut PgConnection, &[OrganizationRow]) -> Result<T, AppError>,
) -> Result<T, AppError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            // a campaign the caller does not see answers as an unknown one
            if let Some(c) = campaign_id {
                visible_campaign(conn, actor, c)?;
            }
            let only = match organization_id {
                Some(org) => Some(super::existing_subtree(conn, org)?),
                None => actor.scope.organization_filter(),
            };
            let list = orgs::in_tree_order(conn, only.as_deref())?;
            read(conn, &list)
        })
}

/// Coverage on `as_of` of every organisation in the caller's scope (or below `organization_id`),
/// rolled up the tree, of one campaign's cohorts when given (coordinators, HR officers,
/// administrators).
pub async fn coverage(
    db: &Db,
    actor: &Actor,
    organization_id: Option<Uuid>,
    as_of: NaiveDate,
    campaign_id: Option<Uuid>,
    format: &str,
) -> Result<Export, AppError> {
    let format = admit(db, actor, organization_id, format, "coverage_report").await?;
    crate::domain::training::check_dates(&[("as_of", Some(as_of))])?;
    let actor = actor.clone();
    db.run(move |conn| {
        let report = in_snapshot(conn, &actor, organization_id, campaign_id, |conn, list| {
            reports::coverage(conn, list, as_of, campaign_id)
        })?;
        Export::make(
            report,
            format,
            reports::file_stem(as_of),
            reports::to_csv,
            reports::to_xlsx,
        )
    })
    .await
}

/// Outreach in `[from, to]` of every organisation in the caller's scope (or below
/// `organization_id`), rolled up the tree, of one campaign when given (coordinators, HR
/// officers, administrators).
pub async fn outreach(
    db: &Db,
    actor: &Actor,
    organization_id: Option<Uuid>,
    (from, to): (NaiveDate, NaiveDate),
    campaign_id: Option<Uuid>,
    format: &str,
) -> Result<Export<OutreachReport>, AppError> {
    let format = admit(db, actor, organization_id, format, "outreach_report").await?;
    check_period(from, to)?;
    let actor = actor.clone();
    db.run(move |conn| {
        let report = in_snapshot(conn, &actor, organization_id, campaign_id, |conn, list| {
            outreach::outreach(conn, list, from, to, campaign_id)
        })?;
        Export::make(
            report,
            format,
            outreach::file_stem(from, to),
            outreach::to_csv,
            outreach::to_xlsx,
        )
    })
    .await
}

/// `cascade rebuild-summaries`: every report summary recomputed from the base tables.
pub fn rebuild_summaries(conn: &mut PgConnection) -> Result<reports::summaries::Rebuilt, AppError> {
    reports::summaries::rebuild(conn)
}
