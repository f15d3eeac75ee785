//! `/reports/coverage`: coverage per organisation in the caller's scope, as JSON, CSV or XLSX;
//! parses, calls [`crate::service::reports::coverage`] and answers.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::error::AppError;
use crate::reports;
use crate::service::reports::{self as service, Export};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CoverageQuery {
    pub organization_id: Option<Uuid>,
    /// The day counted (default today).
    pub as_of: Option<NaiveDate>,
    /// json (default), csv or xlsx
    pub format: Option<String>,
}

#[utoipa::path(get, operation_id = "reports_coverage", tag = "reports", path = "/api/v1/reports/coverage", params(CoverageQuery),
    responses((status = 200, description = "The coverage table: JSON, or a CSV or XLSX file by `format`", content(
                  (reports::Coverage = "application/json"),
                  (String = "text/csv"),
                  (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/reports/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CoverageQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let format = q.format.as_deref().unwrap_or("json");
    let as_of = q.as_of.unwrap_or_else(|| state.today());
    let export =
        service::coverage(&state.db, &user.actor(), q.organization_id, as_of, format).await?;
    Ok(match export {
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
    })
}
