//! What every page shares: the signed-in person (or a trip to `/login`), the layout's menu for
//! their roles, rendering a template, and errors shown as a sentence in Vietnamese on a page
//! with the same status code the API would answer.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::auth::current_user::{Actor, CurrentUser};
use crate::domain::people::Role;
use crate::error::AppError;

/// One entry of the menu.
#[derive(Debug, Clone)]
pub struct MenuItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the layout shows around every page: who is signed in and where they may go.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The signed-in person's full name, if anyone is signed in.
    pub user_name: Option<String>,
    pub menu: Vec<MenuItem>,
}

impl Layout {
    /// The layout for a visitor who is not signed in.
    pub fn public(path: &str) -> Self {
        Layout {
            user_name: None,
            menu: menu(&[], path),
        }
    }

    pub fn for_user(user: &CurrentUser, path: &str) -> Self {
        Layout {
            user_name: Some(user.full_name.clone()),
            menu: menu(&user.roles, path),
        }
    }
}

/// The menu for these roles (none: a visitor), marking the page at `path`.
fn menu(roles: &[Role], path: &str) -> Vec<MenuItem> {
    let staff = crate::domain::access::manages_people(roles);
    let schedules = roles.contains(&Role::Admin) || roles.contains(&Role::Coordinator);
    let signed_in = !roles.is_empty();
    let items: [(bool, &'static str, &'static str); 8] = [
        (signed_in, "/", "Trang chủ"),
        (signed_in, "/me", "Hồ sơ của tôi"),
        (schedules, "/cohorts", "Lịch lớp"),
        (staff, "/certificates", "Giấy chứng nhận"),
        (staff, "/people", "Nhân sự"),
        (staff, "/reports/coverage", "Báo cáo"),
        (true, "/verify", "Tra cứu"),
        (signed_in, "/help", "Hướng dẫn"),
    ];
    items
        .into_iter()
        .filter(|(shown, _, _)| *shown)
        .map(|(_, href, label)| MenuItem {
            href,
            label,
            current: if href == "/" {
                path == "/"
            } else {
                path == href || path.starts_with(&format!("{href}/"))
            },
        })
        .collect()
}

/// One option of a `<select>` (or a check box): its value, what it says, whether it is chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options from value–label pairs, `chosen` marking the selected one.
pub fn choices(
    items: impl IntoIterator<Item = (String, String)>,
    chosen: Option<&str>,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: chosen == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

/// A signed-in person on a page; without a session the visitor is sent to `/login?next=…`.
pub struct PageUser {
    pub user: CurrentUser,
    /// The path asked for, for the menu.
    pub path: String,
}

impl PageUser {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }

    pub fn layout(&self) -> Layout {
        Layout::for_user(&self.user, &self.path)
    }

    pub fn has(&self, role: Role) -> bool {
        self.user.has(role)
    }
}

impl FromRequest for PageUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = CurrentUser::from_request(req, payload);
        let path = req.path().to_string();
        let next = match req.query_string() {
            "" => path.clone(),
            q => format!("{path}?{q}"),
        };
        Box::pin(async move {
            match fut.await {
                Ok(user) => Ok(PageUser { user, path }),
                Err(AppError::Unauthenticated) => Err(PageError::SignIn { next }),
                Err(e) => Err(PageError::App(e)),
            }
        })
    }
}

/// Where to go after signing in: only a path of this site (never `//elsewhere` or a URL).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

/// What a page answers when it cannot show what was asked.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): to the sign-in page, and back afterwards.
    SignIn {
        next: String,
    },
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn { .. } => f.write_str("sign-in needed"),
            PageError::App(e) => e.fmt(f),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

/// The heading of an error page, by its status.
fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "Chưa thực hiện được",
        403 => "Không được phép",
        404 => "Không tìm thấy",
        409 => "Không thực hiện được lúc này",
        429 => "Quá nhiều lần thử",
        503 => "Dịch vụ tạm thời gián đoạn",
        _ => "Đã có lỗi xảy ra",
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn { next } => {
                let query =
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/login?{query}")))
                    .finish()
            }
            PageError::App(e) => {
                // the API's error handling logs what must be logged
                let _ = e.error_response();
                let status = e.status_code();
                let page = ErrorPage {
                    layout: Layout::default(),
                    heading: heading(status),
                    message: e.public_message(),
                };
                let mut res = HttpResponse::build(status);
                if let Some(secs) = e.retry_after_secs() {
                    res.insert_header((header::RETRY_AFTER, secs.to_string()));
                }
                match page.render() {
                    Ok(body) => res.content_type("text/html; charset=utf-8").body(body),
                    Err(_) => res
                        .content_type("text/plain; charset=utf-8")
                        .body(page.message),
                }
            }
        }
    }
}

/// Renders a page with status 200.
pub fn render(page: &impl Template) -> Result<HttpResponse, PageError> {
    render_with(page, StatusCode::OK)
}

/// Renders a page with a status of its own (a form shown again after a broken rule answers the
/// status the API would).
pub fn render_with(page: &impl Template, status: StatusCode) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// After a change: back to a page (303, so a reload does not post again).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// A form's field error as the page shows it: the rule's sentence per field.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// A sentence about the whole form.
    pub summary: Option<String>,
    pub fields: Vec<(String, String)>,
}

impl FormErrors {
    pub fn from_error(e: &AppError) -> Self {
        match e {
            AppError::Validation(details) => FormErrors {
                summary: Some(e.public_message()),
                fields: details
                    .iter()
                    .map(|d| (d.field.clone(), d.message.clone()))
                    .collect(),
            },
            other => FormErrors {
                summary: Some(other.public_message()),
                fields: Vec::new(),
            },
        }
    }

    /// The message for one field, if it has one.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.summary.is_none() && self.fields.is_empty()
    }
}

/// Whether a path belongs to the JSON API (which answers its errors in JSON).
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// An error answered the way the path speaks: JSON for the API, a page for everything else.
fn answer(req: &HttpRequest, e: AppError) -> actix_web::Error {
    if is_api(req.path()) {
        e.into()
    } else {
        PageError::App(e).into()
    }
}

/// What is not here: the API's JSON 404, or a page saying so.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    answer(&req, AppError::NotFound).error_response()
}

/// A path segment that does not parse (a malformed id) names nothing: 404.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default().error_handler(|_, req| answer(req, AppError::NotFound))
}

/// A query parameter of the wrong form (a date that is not one): 400, as a page.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default().error_handler(|_, req| {
        answer(
            req,
            AppError::BadRequest("Địa chỉ trang có một tham số không đúng dạng.".into()),
        )
    })
}

/// A form that cannot be read (a field missing or of the wrong form): 400, as a page.
pub fn form_config() -> actix_web::web::FormConfig {
    actix_web::web::FormConfig::default()
        .limit(256 * 1024)
        .error_handler(|_, req| {
            answer(
                req,
                AppError::BadRequest(
                    "Biểu mẫu thiếu thông tin hoặc có trường không đúng dạng.".into(),
                ),
            )
        })
}
