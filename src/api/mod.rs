//! The JSON API under `/api/v1`, the health probes and the OpenAPI document.

pub mod auth;
pub mod campaigns;
pub mod certificates;
pub mod cohorts;
pub mod constraints;
pub mod courses;
pub mod health;
pub mod marks;
pub mod organizations;
pub mod outreach;
pub mod privacy;
pub mod reports;
pub mod retirement;
pub mod targets;
pub mod users;
pub mod whole;

use std::sync::OnceLock;

use actix_web::dev::ResourceDef;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
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
    modifiers(&Conformance),
    paths(
        openapi_document,
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
        targets::list,
        targets::set,
        campaigns::list,
        campaigns::get,
        campaigns::create,
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
        outreach::create,
        outreach::list,
        outreach::get,
        outreach::update,
        outreach::import,
        reports::coverage,
        reports::outreach,
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

/// The operations anyone may call: no token, no session cookie.
pub const PUBLIC_OPERATIONS: &[&str] = &[
    "openapi_document",
    "health_healthz",
    "health_readyz",
    "auth_login",
    "auth_refresh",
    "certificates_verify",
    "certificates_keys",
];

/// The security schemes of the document: a bearer access token (JWT) or the session cookie of
/// the pages.
pub const BEARER_SCHEME: &str = "bearer";
pub const COOKIE_SCHEME: &str = "session_cookie";

/// Completes what the handlers' annotations say with what every operation has in common: the
/// security schemes and who needs them, and the error answers the server gives before a handler
/// runs (401 for an anonymous caller, 400/413/415 for a body it cannot take, 404 for a path
/// segment that names nothing, 400 for a query it cannot read, 503 while the database is
/// unreachable).
struct Conformance;

impl Modify for Conformance {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from POST /api/v1/auth/login or /auth/refresh (15 minutes).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            COOKIE_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::current_user::SESSION_COOKIE,
                "The session cookie set by logging in (pages and API alike).",
            ))),
        );
        // the bodies that name another record by id (`organization_id`, `parent_id`, ...)
        let naming_bodies: Vec<String> = components
            .schemas
            .iter()
            .filter(|(_, schema)| match schema {
                RefOr::T(utoipa::openapi::schema::Schema::Object(o)) => {
                    o.properties.keys().any(|k| k.ends_with("_id"))
                }
                _ => false,
            })
            .map(|(name, _)| format!("#/components/schemas/{name}"))
            .collect();
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                complete_operation(op, &naming_bodies);
            }
        }
        constraints::state_limits(openapi);
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

fn complete_operation(op: &mut Operation, naming_bodies: &[String]) {
    let id = op.operation_id.clone().unwrap_or_default();
    let public = PUBLIC_OPERATIONS.contains(&id.as_str());
    let has_body = op.request_body.is_some();
    // a body naming a record that does not exist, or not in the caller's scope: 404
    let body_names_a_thing = op
        .request_body
        .as_ref()
        .and_then(|b| b.content.get("application/json"))
        .and_then(|c| c.schema.as_ref())
        .is_some_and(|s| matches!(s, RefOr::Ref(r) if naming_bodies.contains(&r.ref_location)));
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
    // a query naming an organisation, a course, a person... that does not exist: 404
    let names_a_thing = params.iter().any(|p| {
        matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
            && p.name.ends_with("_id")
    });
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    };
    if !public {
        add(
            "401",
            "No valid access token or session cookie (`unauthenticated`).",
        );
        add(
            "403",
            "The caller's role or scope does not allow it, or a cookie-authenticated change came \
             without the page's origin (`forbidden`).",
        );
    }
    if has_body || has_query {
        add(
            "400",
            "The request cannot be read or a field breaks its rule (`invalid_json`, \
             `validation_failed`, `bad_request`).",
        );
    }
    if has_body {
        add(
            "413",
            "The body is larger than the route allows (`payload_too_large`).",
        );
        add(
            "415",
            "The body is missing or not of the content type the operation takes \
             (`unsupported_media_type`).",
        );
    }
    if has_path || names_a_thing || body_names_a_thing {
        add(
            "404",
            "Nothing found at this path, or not in the caller's scope (`not_found`).",
        );
    }
    if id != "openapi_document" && id != "health_healthz" {
        add("503", "The database cannot be reached (`unavailable`).");
    }
    if !public {
        op.security = Some(vec![
            SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
            SecurityRequirement::new(COOKIE_SCHEME, Vec::<String>::new()),
        ]);
    }
}

/// This document, as JSON.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "openapi_document", tag = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn openapi_document() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The document, assembled once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// Every documented path as actix matches it, with its methods: what answers 405 and `Allow`.
fn route_table() -> &'static [(ResourceDef, Vec<&'static str>)] {
    static TABLE: OnceLock<Vec<(ResourceDef, Vec<&'static str>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        document()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect()
    })
}

/// The methods the API takes at `path`, when it is one of its paths; empty otherwise.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut allowed: Vec<&'static str> = Vec::new();
    for (def, methods) in route_table() {
        if def.is_match(path) {
            for m in methods {
                if !allowed.contains(m) {
                    allowed.push(m);
                }
            }
        }
    }
    allowed
}

/// What answers a request no route took: 405 with `Allow` when the path is the API's and the
/// method is not, else 404; both with the JSON error body.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let allowed = allowed_methods(req.path());
    if allowed.is_empty() || allowed.contains(&req.method().as_str()) {
        return AppError::NotFound.error_response();
    }
    method_not_allowed(&allowed)
}

/// 405 `method_not_allowed`, naming the methods the path takes.
pub fn method_not_allowed(allowed: &[&str]) -> HttpResponse {
    let body = crate::error::ErrorBody {
        error: crate::error::ErrorDetail {
            code: crate::error::ErrorCode::MethodNotAllowed,
            message: "Địa chỉ này không hỗ trợ phương thức HTTP của yêu cầu.".into(),
            details: None,
        },
    };
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allowed.join(", ")))
        .json(body)
}

/// A resource taking only GET, answering other methods with 405 and `Allow: GET`.
fn get_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async {
            method_not_allowed(&[Method::GET.as_str()])
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/healthz", health::healthz))
        .service(get_only("/readyz", health::readyz))
        .service(get_only("/api/openapi.json", openapi_document))
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi-ui.json", document().clone()))
        .service(
            web::scope("/api/v1")
                // a path of the API asked with a method it does not take: 405 + Allow
                .default_service(web::to(fallback))
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
                .service(targets::list)
                .service(targets::set)
                .service(campaigns::list)
                .service(campaigns::get)
                .service(campaigns::create)
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
                .service(
                    web::resource("/outreach/import")
                        .app_data(web::PayloadConfig::new(outreach::CSV_LIMIT))
                        .route(web::post().to(outreach::import)),
                )
                .service(outreach::create)
                .service(outreach::list)
                .service(outreach::get)
                .service(outreach::update)
                .service(reports::coverage)
                .service(reports::outreach)
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
