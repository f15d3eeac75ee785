//! Reports: coverage of the programme per organisation in the caller's scope.

use chrono::NaiveDate;
use uuid::Uuid;

use super::refuse;
use crate::auth::current_user::Actor;
use crate::db::organizations as orgs;
use crate::db::Db;
use crate::error::AppError;
use crate::reports::{self, Coverage};

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
pub enum Export {
    Json(Coverage),
    /// The bytes, and the file name.
    File {
        bytes: Vec<u8>,
        file_name: String,
        content_type: &'static str,
    },
}

/// Coverage on `as_of` of every organisation in the caller's scope (or below `organization_id`),
/// rolled up the tree (coordinators, HR officers, administrators).
pub async fn coverage(
    db: &Db,
    actor: &Actor,
    organization_id: Option<Uuid>,
    as_of: NaiveDate,
    format: &str,
) -> Result<Export, AppError> {
    if !crate::domain::access::manages_people(&actor.roles) {
        return Err(refuse(db, actor, "coverage_report").await);
    }
    let format = ReportFormat::parse(format)
        .ok_or_else(|| AppError::validation("format", "Định dạng phải là json, csv hoặc xlsx."))?;
    crate::domain::training::check_dates(&[("as_of", Some(as_of))])?;
    if let Some(org) = organization_id {
        if !actor.scope.covers_organization(org) {
            return Err(AppError::NotFound);
        }
    }
    let scope = actor.scope.organization_filter();
    db.run(move |conn| {
        let only = match organization_id {
            Some(org) => Some(orgs::subtree_ids(conn, org)?),
            None => scope,
        };
        let list = orgs::in_tree_order(conn, only.as_deref())?;
        let report = reports::coverage(conn, &list, as_of)?;
        let stem = reports::file_stem(as_of);
        // rendering a spreadsheet is blocking work too: it stays on this blocking thread
        Ok(match format {
            ReportFormat::Json => Export::Json(report),
            ReportFormat::Csv => Export::File {
                bytes: reports::to_csv(&report)?,
                file_name: format!("{stem}.csv"),
                content_type: "text/csv; charset=utf-8",
            },
            ReportFormat::Xlsx => Export::File {
                bytes: reports::to_xlsx(&report)?,
                file_name: format!("{stem}.xlsx"),
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            },
        })
    })
    .await
}
