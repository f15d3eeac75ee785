//! The public verification page that a certificate's QR code opens.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::current_user::client_address;
use crate::db::views::certificates::Verification;
use crate::error::AppError;
use crate::service::verification;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    result: Option<Verification>,
    status_label: &'static str,
    tier_label: &'static str,
}

fn labels(v: &Verification) -> (&'static str, &'static str) {
    let status = match v.status.as_str() {
        "valid" => "Giấy chứng nhận hợp lệ.",
        "expired" => "Giấy chứng nhận đã hết hạn.",
        "revoked" => "Giấy chứng nhận đã bị thu hồi.",
        _ => "Giấy chứng nhận đã được thay thế bằng giấy chứng nhận khác.",
    };
    let tier = if v.tier == "master_trainer" {
        "Giảng viên nguồn"
    } else {
        "Tuyên truyền viên"
    };
    (status, tier)
}

fn html(view: &VerifyPage, status: actix_web::http::StatusCode) -> Result<HttpResponse, AppError> {
    let body = view.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// Text as stored, without bidi controls: the page shows a name in the order it is stored, never
/// reordered by an override (input refuses them; this keeps any stored before that so too).
fn displayable(mut v: Verification) -> Verification {
    use crate::domain::text::without_bidi_controls as clean;
    v.holder_name = clean(&v.holder_name);
    v.course_title = clean(&v.course_title);
    v.issuer_name = clean(&v.issuer_name);
    v.revocation_reason = v.revocation_reason.as_deref().map(clean);
    for link in &mut v.lineage {
        link.holder_name = clean(&link.holder_name);
        link.issuer_name = clean(&link.issuer_name);
    }
    v
}

#[get("/verify/{code}")]
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state.verify_limiter.check(&client_address(&req))?;
    let found = match verification::verify(&state.db, code.into_inner(), state.today()).await {
        Ok(v) => Some(displayable(v)),
        Err(AppError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let (status_label, tier_label) = found.as_ref().map(labels).unwrap_or(("", ""));
    let http_status = if found.is_some() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::NOT_FOUND
    };
    html(
        &VerifyPage {
            result: found,
            status_label,
            tier_label,
        },
        http_status,
    )
}

#[derive(Deserialize)]
pub struct Lookup {
    pub code: Option<String>,
}

/// The form on the page: `/verify?code=…` goes to `/verify/<code>`.
#[get("/verify")]
pub async fn lookup(query: web::Query<Lookup>) -> HttpResponse {
    let code: String = query
        .code
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/verify/{code}")))
        .finish()
}
