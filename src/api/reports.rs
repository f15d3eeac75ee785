//! `/reports/coverage` and `/reports/outreach`: per organisation in the caller's scope, rolled
//! up the tree, as JSON, CSV or XLSX; parse, call [`crate::service::reports`] and answer.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::domain::reports::year_to_date;
use crate::error::AppError;
use crate::reports;
use crate::service::reports::{self as service, Export};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CoverageQuery {
    pub organization_id: Option<Uuid>,
    /// The day counted (default today).
    pub as_of: Option<NaiveDate>,
    /// Count only this campaign's cohorts in completions and cohorts planned.
    pub campaign_id: Option<Uuid>,
    /// json (default), csv or xlsx
    pub format: Option<String>,
}

fn answer<T: Serialize>(export: Export<T>) -> HttpResponse {
    match export {
        Export::Json(report) => HttpResponse::Ok().json(report),
        Export::File {
            bytes,
            file_name,
            content_type,
        } => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(file_name)],
            })
            .body(bytes),
    }
}

#[utoipa::path(get, operation_id = "reports_coverage", tag = "reports", path = "/api/v1/reports/coverage", params(CoverageQuery),
    responses((status = 200, description = "The coverage table: JSON, or a CSV or XLSX file by `format`", content(
                  (reports::Coverage = "application/json"),
                  (String = "text/csv"),
                  (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, description = "The organisation is outside the caller's scope, or the campaign is unknown", body = crate::error::ErrorBody)))]
#[get("/reports/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CoverageQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let format = q.format.as_deref().unwrap_or("json");
    let as_of = q.as_of.unwrap_or_else(|| state.today());
    let export = service::coverage(
        &state.db,
        &user.actor(),
        q.organization_id,
        as_of,
        q.campaign_id,
        format,
    )
    .await?;
    Ok(answer(export))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OutreachQuery {
    pub organization_id: Option<Uuid>,
    /// First day counted (default 1 January of this year).
    pub from: Option<NaiveDate>,
    /// Last day counted (default today); not before `from`.
    pub to: Option<NaiveDate>,
    /// Count only this campaign's entries.
    pub campaign_id: Option<Uuid>,
    /// json (default), csv or xlsx
    pub format: Option<String>,
}

#[utoipa::path(get, operation_id = "reports_outreach", tag = "reports", path = "/api/v1/reports/outreach", params(OutreachQuery),
    responses((status = 200, description = "The outreach report: JSON, or a CSV (per organisation) or XLSX (per organisation, by form, by month) file by `format`", content(
                  (reports::OutreachReport = "application/json"),
                  (String = "text/csv"),
                  (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, description = "A bad format, a day out of range, or `from` after `to`", body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, description = "The organisation is outside the caller's scope, or the campaign is unknown", body = crate::error::ErrorBody)))]
#[get("/reports/outreach")]
pub async fn outreach(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<OutreachQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let format = q.format.as_deref().unwrap_or("json");
    let (from, to) = year_to_date(state.today());
    let period = (q.from.unwrap_or(from), q.to.unwrap_or(to));
    let export = service::outreach(
        &state.db,
        &user.actor(),
        q.organization_id,
        period,
        q.campaign_id,
        format,
    )
    .await?;
    Ok(answer(export))
}
