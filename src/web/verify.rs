//! The public verification pages: a form to type a code, and the result a certificate's QR code
//! opens — status in words and colour, holder, course, issuer, dates and the lineage up to the
//! state agency; nothing more about the person.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::page::{Layout, PageError};
use crate::auth::current_user::{client_address, CurrentUser};
use crate::db::views::certificates::{LineageLink, Verification};
use crate::error::AppError;
use crate::service::verification;
use crate::startup::AppState;

/// A lineage link as the page shows it.
struct Link {
    serial: String,
    holder_name: String,
    issuer_name: String,
    status: String,
    status_label: &'static str,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    layout: Layout,
    /// A code was looked up (false: the empty form).
    looked_up: bool,
    result: Option<Verification>,
    lineage: Vec<Link>,
    status_label: &'static str,
    tier_label: &'static str,
    /// Minutes to wait when the visitor looked up too many codes.
    wait_minutes: Option<u64>,
}

/// A certificate's status in words.
fn status_word(status: &str) -> &'static str {
    match status {
        "valid" => "còn hiệu lực",
        "expired" => "đã hết hạn",
        "revoked" => "đã bị thu hồi",
        _ => "đã được thay thế",
    }
}

fn status_sentence(status: &str) -> &'static str {
    match status {
        "valid" => "Giấy chứng nhận hợp lệ.",
        "expired" => "Giấy chứng nhận đã hết hạn.",
        "revoked" => "Giấy chứng nhận đã bị thu hồi.",
        _ => "Giấy chứng nhận đã được thay thế bằng giấy chứng nhận khác.",
    }
}

fn tier_label(tier: &str) -> &'static str {
    if tier == "master_trainer" {
        "Giảng viên nguồn"
    } else {
        "Tuyên truyền viên"
    }
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

fn link(l: &LineageLink) -> Link {
    Link {
        serial: l.serial.clone(),
        holder_name: l.holder_name.clone(),
        issuer_name: l.issuer_name.clone(),
        status: l.status.clone(),
        status_label: status_word(&l.status),
    }
}

fn html(view: &VerifyPage, status: StatusCode) -> Result<HttpResponse, PageError> {
    let body = view.render().map_err(AppError::internal)?;
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(minutes) = view.wait_minutes {
        res.insert_header((header::RETRY_AFTER, (minutes * 60).to_string()));
    }
    Ok(res.body(body))
}

fn empty(path: &str) -> VerifyPage {
    VerifyPage {
        layout: Layout::public(path),
        looked_up: false,
        result: None,
        lineage: Vec::new(),
        status_label: "",
        tier_label: "",
        wait_minutes: None,
    }
}

#[get("/verify/{code}")]
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Option<CurrentUser>,
    code: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let layout = match &staff {
        Some(u) => Layout::for_user(u, "/verify"),
        None => Layout::public("/verify"),
    };
    // members of staff checking many certificates are not held to the public limit
    let is_staff = staff
        .as_ref()
        .is_some_and(|u| crate::domain::access::manages_people(&u.roles));
    if !is_staff {
        if let Err(AppError::RateLimited { retry_after_secs }) =
            state.verify_limiter.check(&client_address(&req))
        {
            let view = VerifyPage {
                layout,
                wait_minutes: Some(retry_after_secs.div_ceil(60).max(1)),
                ..empty("/verify")
            };
            return html(&view, StatusCode::TOO_MANY_REQUESTS);
        }
    }
    let found = match verification::verify(&state.db, code.into_inner(), state.today()).await {
        Ok(v) => Some(displayable(v)),
        Err(AppError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let http_status = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let view = VerifyPage {
        layout,
        looked_up: true,
        lineage: found
            .as_ref()
            .map(|v| v.lineage.iter().map(link).collect())
            .unwrap_or_default(),
        status_label: found.as_ref().map_or("", |v| status_sentence(&v.status)),
        tier_label: found.as_ref().map_or("", |v| tier_label(&v.tier)),
        result: found,
        wait_minutes: None,
    };
    html(&view, http_status)
}

#[derive(Deserialize)]
pub struct Lookup {
    pub code: Option<String>,
}

/// The form; with a `code` it goes to `/verify/<code>` (letters and digits only).
#[get("/verify")]
pub async fn lookup(
    query: web::Query<Lookup>,
    staff: Option<CurrentUser>,
) -> Result<HttpResponse, PageError> {
    let code: String = query
        .code
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if code.is_empty() {
        let mut view = empty("/verify");
        if let Some(u) = &staff {
            view.layout = Layout::for_user(u, "/verify");
        }
        return html(&view, StatusCode::OK);
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/verify/{code}")))
        .finish())
}
