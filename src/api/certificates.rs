//! `/certificates`, a cohort's ZIP, `/verify/{code}` and `/keys`: each handler parses, calls one
//! use case of [`crate::service::certificates`] or [`crate::service::verification`] and answers.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::{client_address, CurrentUser};
use crate::db::views::certificates::{
    CertificateList, CertificateView, Downstream, PublicKey, Verification,
};
use crate::domain::certificates::serial_file_name;
use crate::error::AppError;
use crate::service::certificates::{self as service, CertificateSearch, Viewing};
use crate::service::verification;
use crate::startup::AppState;

fn viewing(state: &AppState) -> Viewing {
    Viewing {
        public_url: state.config.public_url.clone(),
        today: state.today(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CertificateQuery {
    /// Words of the holder's name (with or without diacritics) or part of the serial.
    #[param(max_length = 100)]
    pub q: Option<String>,
    pub user_id: Option<Uuid>,
    pub cohort_id: Option<Uuid>,
    pub status: Option<String>,
    pub issued_from: Option<NaiveDate>,
    pub issued_to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

#[utoipa::path(get, operation_id = "certificates_list", tag = "certificates", path = "/api/v1/certificates", params(CertificateQuery), responses((status = 200, body = CertificateList)))]
#[get("/certificates")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CertificateQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let search = CertificateSearch {
        q: q.q,
        user_id: q.user_id,
        cohort_id: q.cohort_id,
        status: q.status,
        issued_from: q.issued_from,
        issued_to: q.issued_to,
        page: q.page,
        per_page: q.per_page,
    };
    let found =
        service::find_certificates(&state.db, &user.actor(), search, viewing(&state)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, operation_id = "certificates_get", tag = "certificates", path = "/api/v1/certificates/{id}", responses((status = 200, body = CertificateView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/certificates/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let view =
        service::certificate(&state.db, &user.actor(), id.into_inner(), viewing(&state)).await?;
    Ok(HttpResponse::Ok().json(view))
}

fn pdf_response(serial: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(serial_file_name(serial))],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

#[utoipa::path(get, operation_id = "certificates_pdf", tag = "certificates", path = "/api/v1/certificates/{id}/pdf", responses((status = 200, content_type = "application/pdf"), (status = 404, body = crate::error::ErrorBody)))]
#[get("/certificates/{id}/pdf")]
pub async fn pdf(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (serial, bytes) =
        service::certificate_pdf(&state.db, &user.actor(), state.issuer(), id.into_inner()).await?;
    Ok(pdf_response(&serial, bytes))
}

// Streamed as it is written (chunked, no Content-Length); an error found before the first byte
// answers with the JSON error body.
/// Every certificate of a cohort as one ZIP of PDFs.
#[utoipa::path(get, operation_id = "certificates_cohort_zip", tag = "certificates", path = "/api/v1/cohorts/{id}/certificates.zip", responses((status = 200, content_type = "application/zip"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}/certificates.zip")]
pub async fn cohort_zip(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let zip =
        service::cohort_certificates_zip(&state.db, &user.actor(), state.issuer(), id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("certificates-{id}.zip"))],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // stored PDFs do not compress: keep the compression middleware from trying
        .insert_header(header::ContentEncoding::Identity)
        .streaming(zip.map(|chunk| chunk.map(web::Bytes::from))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueBody {
    #[schema(min_length = 1, max_length = 80)]
    pub full_name: Option<String>,
    pub date_of_birth: Option<String>,
}

#[utoipa::path(post, operation_id = "certificates_revoke", tag = "certificates", path = "/api/v1/certificates/{id}/revoke", request_body = RevokeBody,
    responses((status = 200, body = CertificateView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/certificates/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<RevokeBody>,
) -> Result<HttpResponse, AppError> {
    let view = service::revoke(
        &state.db,
        &user.actor(),
        id.into_inner(),
        &body.reason,
        viewing(&state),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A correction: a new certificate with the corrected claims supersedes the old one; both stay
/// verifiable. The person's record takes the correction too.
#[utoipa::path(post, operation_id = "certificates_reissue", tag = "certificates", path = "/api/v1/certificates/{id}/reissue", request_body = ReissueBody,
    responses((status = 201, body = CertificateView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/certificates/{id}/reissue")]
pub async fn reissue(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<ReissueBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let view = service::reissue(
        &state.db,
        &user.actor(),
        state.issuer(),
        id.into_inner(),
        body.full_name.as_deref(),
        body.date_of_birth.as_deref(),
        viewing(&state),
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, operation_id = "certificates_verify", tag = "certificates", path = "/api/v1/verify/{code}", responses((status = 200, body = Verification), (status = 404, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
#[get("/verify/{code}")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state.verify_limiter.check(&client_address(&req))?;
    let answer = verification::verify(&state.db, code.into_inner(), state.today()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

#[utoipa::path(get, operation_id = "certificates_keys", tag = "certificates", path = "/api/v1/keys", responses((status = 200, body = Vec<PublicKey>)))]
#[get("/keys")]
pub async fn keys(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let found = verification::public_keys(&state.db).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// What a master-trainer certificate reaches downstream: the cohorts its holder teaches and the
/// certificates issued on its strength — what to review when it is revoked.
#[utoipa::path(get, operation_id = "certificates_downstream", tag = "certificates", path = "/api/v1/certificates/{id}/downstream", responses((status = 200, body = Downstream), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/certificates/{id}/downstream")]
pub async fn downstream(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let body =
        service::downstream(&state.db, &user.actor(), id.into_inner(), state.today()).await?;
    Ok(HttpResponse::Ok().json(body))
}
