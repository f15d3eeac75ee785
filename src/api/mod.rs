//! The JSON API under `/api/v1`, the health probes and the OpenAPI document.

pub mod auth;
pub mod certificates;
pub mod cohorts;
pub mod courses;
pub mod health;
pub mod marks;
pub mod organizations;
pub mod privacy;
pub mod reports;
pub mod retirement;
pub mod users;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, HttpRequest};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::AppError;

/// Largest JSON body accepted (API.md): 64 KiB.
pub const JSON_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cascade API",
        description = "Training chain of Vietnam's social-insurance (BHXH) outreach programme: \
                       master trainers, propagandists, cohorts and verifiable certificates."
    ),
    paths(
        health::healthz,
        health::readyz,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::me,
        auth::change_password,
        organizations::list,
        organizations::get,
        organizations::create,
        organizations::update,
        users::create,
        users::list,
        users::get,
        users::update,
        users::import,
        users::records,
        users::reveal_national_id,
        retirement::retire,
        courses::create,
        courses::list,
        courses::get,
        cohorts::create,
        cohorts::list,
        cohorts::get,
        cohorts::update,
        cohorts::add_instructor,
        cohorts::remove_instructor,
        cohorts::add_session,
        cohorts::enroll,
        cohorts::list_enrollments,
        cohorts::withdraw,
        cohorts::finalize,
        marks::put_attendance,
        marks::put_score,
        certificates::list,
        certificates::get,
        certificates::pdf,
        certificates::cohort_zip,
        certificates::revoke,
        certificates::reissue,
        certificates::verify,
        certificates::keys,
        certificates::downstream,
        reports::coverage,
        privacy::list,
        privacy::my_data
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::error::ErrorDetail,
        crate::error::FieldError
    ))
)]
pub struct ApiDoc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .route(
            "/api/openapi.json",
            web::get().to(|| async { web::Json(ApiDoc::openapi()) }),
        )
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi-ui.json", ApiDoc::openapi()))
        .service(
            web::scope("/api/v1")
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::me)
                // `/me/data` is a path of its own, not a sub-resource of `/me`
                .service(privacy::my_data)
                .service(auth::change_password)
                .service(organizations::list)
                .service(organizations::create)
                .service(organizations::get)
                .service(organizations::update)
                .service(
                    web::resource("/users/import")
                        .app_data(web::PayloadConfig::new(users::CSV_LIMIT))
                        .route(web::post().to(users::import)),
                )
                .service(users::create)
                .service(users::list)
                .service(users::get)
                .service(users::update)
                .service(users::records)
                .service(users::reveal_national_id)
                .service(retirement::retire)
                .service(courses::create)
                .service(courses::list)
                .service(courses::get)
                .service(cohorts::create)
                .service(cohorts::list)
                .service(cohorts::get)
                .service(cohorts::update)
                .service(cohorts::add_instructor)
                .service(cohorts::remove_instructor)
                .service(cohorts::add_session)
                .service(cohorts::enroll)
                .service(cohorts::list_enrollments)
                .service(cohorts::withdraw)
                .service(cohorts::finalize)
                // a whole cohort's attendance in one body: a limit of its own
                .service(
                    web::resource("/sessions/{id}/attendance")
                        .app_data(json_config_with_limit(marks::ATTENDANCE_JSON_LIMIT))
                        .route(web::put().to(marks::put_attendance)),
                )
                .service(marks::put_score)
                .service(certificates::list)
                .service(certificates::get)
                .service(certificates::pdf)
                .service(certificates::cohort_zip)
                .service(certificates::revoke)
                .service(certificates::reissue)
                .service(certificates::verify)
                .service(certificates::keys)
                .service(certificates::downstream)
                .service(reports::coverage)
                .service(privacy::list),
        );
}

/// JSON bodies: at most 64 KiB; every failure answered with the API's error body, never serde's
/// wording.
pub fn json_config() -> web::JsonConfig {
    json_config_with_limit(JSON_LIMIT)
}

/// JSON bodies of a route that takes more than [`JSON_LIMIT`], answered as [`json_config`] does.
pub fn json_config_with_limit(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| {
            let app = match &err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => AppError::PayloadTooLarge,
                JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
                JsonPayloadError::Deserialize(e) if e.is_data() => AppError::InvalidJson(
                    "Nội dung JSON có trường sai kiểu dữ liệu hoặc thiếu trường bắt buộc.".into(),
                ),
                _ => AppError::InvalidJson("Nội dung gửi lên không phải là JSON hợp lệ.".into()),
            };
            // serde's message quotes the offending value (a CCCD, an e-mail): only where it was
            match &err {
                JsonPayloadError::Deserialize(e) => tracing::debug!(
                    category = ?e.classify(),
                    line = e.line(),
                    column = e.column(),
                    "rejected JSON body"
                ),
                other => tracing::debug!(error = %other, "rejected JSON body"),
            }
            app.into()
        })
}

/// A path segment that does not parse (say, a malformed id) names nothing: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        tracing::debug!(error = %err, "unparsable path");
        AppError::NotFound.into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        tracing::debug!(error = %err, "unparsable query");
        AppError::BadRequest("Chuỗi truy vấn có tham số không đúng dạng.".into()).into()
    })
}
