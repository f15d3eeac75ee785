//! `/reports/coverage`: coverage per organisation in the caller's scope, as JSON, CSV or XLSX.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::organizations as orgs;
use crate::error::AppError;
use crate::reports;
use crate::startup::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CoverageQuery {
    pub organization_id: Option<Uuid>,
    /// The day counted (default today).
    pub as_of: Option<NaiveDate>,
    /// json (default), csv or xlsx
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/coverage", params(CoverageQuery),
    responses((status = 200, body = reports::Coverage), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/reports/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CoverageQuery>,
) -> Result<HttpResponse, AppError> {
    user.require_any(crate::domain::access::STAFF, "coverage_report")
        .await?;
    let q = query.into_inner();
    let format = q.format.as_deref().unwrap_or("json").to_ascii_lowercase();
    if !matches!(format.as_str(), "json" | "csv" | "xlsx") {
        return Err(AppError::validation("format", "must be json, csv or xlsx"));
    }
    let as_of = q.as_of.unwrap_or_else(|| state.today());
    crate::domain::training::check_dates(&[("as_of", Some(as_of))])?;
    if let Some(org) = q.organization_id {
        if !user.scope.covers_organization(org) {
            return Err(AppError::NotFound);
        }
    }
    let scope = user.scope.organization_filter();
    let report = state
        .db
        .run(move |conn| {
            let only = match q.organization_id {
                Some(org) => Some(orgs::subtree_ids(conn, org)?),
                None => scope,
            };
            let list = orgs::in_tree_order(conn, only.as_deref())?;
            reports::coverage(conn, &list, as_of)
        })
        .await?;
    let attachment = |ext: &str| ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!(
            "{}.{ext}",
            reports::file_stem(as_of)
        ))],
    };
    Ok(match format.as_str() {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(attachment("csv"))
            .body(reports::to_csv(&report)?),
        "xlsx" => {
            let bytes = web::block(move || reports::to_xlsx(&report))
                .await
                .map_err(AppError::internal)??;
            HttpResponse::Ok()
                .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .insert_header(attachment("xlsx"))
                .body(bytes)
        }
        _ => HttpResponse::Ok().json(report),
    })
}
