//! The certificate desk (HR officers, coordinators, administrators): search people's
//! certificates in scope, filter by status, cohort and dates, download one PDF or a cohort's
//! ZIP, export the list as CSV or XLSX, revoke and reissue where the role allows.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse, ResponseError};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::labels;
use super::page::{render_with, Choice, Layout, PageError, PageUser};
use crate::domain::access::manages_people;
use crate::error::AppError;
use crate::service::certificates::{self as service, CertificateSearch, Viewing};
use crate::service::reports::{Export, ReportFormat};
use crate::startup::AppState;

#[derive(Deserialize, Default, Clone)]
pub struct DeskQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    /// Empty when the form's "all cohorts" is chosen.
    pub cohort_id: Option<String>,
    /// Empty when the form's date field is left blank.
    pub issued_from: Option<String>,
    pub issued_to: Option<String>,
    pub page: Option<i64>,
}

/// A date typed in a filter: blank is no filter; anything else must be a date.
fn filter_date(field: &'static str, value: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::validation(field, "Nhập ngày theo dạng năm-tháng-ngày.")),
    }
}

impl DeskQuery {
    fn cohort(&self) -> Option<Uuid> {
        self.cohort_id.as_deref().and_then(|c| c.parse().ok())
    }

    fn search(&self, per_page: i64) -> Result<CertificateSearch, AppError> {
        Ok(CertificateSearch {
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            status: self.status.clone().filter(|s| !s.is_empty()),
            cohort_id: self.cohort(),
            issued_from: filter_date("issued_from", &self.issued_from)?,
            issued_to: filter_date("issued_to", &self.issued_to)?,
            page: Some(self.page.unwrap_or(1)),
            per_page: Some(per_page),
            ..Default::default()
        })
    }

    /// The query string of these filters (for export links and paging).
    fn query_string(&self, page: Option<i64>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(q) = self.q.as_ref().filter(|q| !q.is_empty()) {
            pairs.push(("q", q.clone()));
        }
        if let Some(s) = self.status.as_ref().filter(|s| !s.is_empty()) {
            pairs.push(("status", s.clone()));
        }
        if let Some(c) = self.cohort() {
            pairs.push(("cohort_id", c.to_string()));
        }
        for (name, value) in [
            ("issued_from", &self.issued_from),
            ("issued_to", &self.issued_to),
        ] {
            if let Some(d) = value.as_ref().filter(|d| !d.trim().is_empty()) {
                pairs.push((name, d.clone()));
            }
        }
        if let Some(p) = page {
            pairs.push(("page", p.to_string()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

struct Line {
    id: Uuid,
    serial: String,
    holder: String,
    course: String,
    tier: &'static str,
    issuer: String,
    issued_on: String,
    valid_until: String,
    status: &'static str,
    status_class: String,
    /// The caller may revoke and reissue it (a coordinator of the issuer, an administrator),
    /// and it is still valid.
    may_change: bool,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct DeskPage {
    layout: Layout,
    filters: DeskQuery,
    statuses: Vec<Choice>,
    cohorts: Vec<Choice>,
    /// The cohort chosen in the filter, for its ZIP link.
    cohort: Option<Uuid>,
    lines: Vec<Line>,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    export_query: String,
    notice: Option<String>,
    error: Option<String>,
}

impl DeskPage {
    fn text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }

    fn date(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
}

const PER_PAGE: i64 = 25;

fn viewing(state: &AppState) -> Viewing {
    Viewing {
        public_url: state.config.public_url.clone(),
        today: state.today(),
    }
}

fn staff_only(page: &PageUser) -> Result<(), PageError> {
    if manages_people(&page.user.roles) {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

async fn show(
    state: &AppState,
    page: &PageUser,
    filters: DeskQuery,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    staff_only(page)?;
    let actor = page.actor();
    let found =
        service::find_certificates(&state.db, &actor, filters.search(PER_PAGE)?, viewing(state))
            .await?;
    // the cohorts of the scope, newest first, for the cohort filter
    let recent = crate::service::cohorts::find_cohorts(
        &state.db,
        &actor,
        crate::service::cohorts::CohortSearch {
            per_page: Some(100),
            ..Default::default()
        },
    )
    .await?;
    let chosen_cohort = filters.cohort();
    let mut cohort_choices = vec![Choice {
        value: String::new(),
        label: "Tất cả".into(),
        selected: chosen_cohort.is_none(),
    }];
    cohort_choices.extend(recent.items.into_iter().map(|c| Choice {
        selected: chosen_cohort == Some(c.id),
        value: c.id.to_string(),
        label: format!("{} ({})", c.title, c.starts_on.format("%d/%m/%Y")),
    }));
    let pages = ((found.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let date = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let view = DeskPage {
        layout: page.layout(),
        statuses: [
            ("", "Tất cả"),
            ("valid", "Còn hiệu lực"),
            ("expired", "Đã hết hạn"),
            ("revoked", "Đã thu hồi"),
            ("superseded", "Đã được thay thế"),
        ]
        .into_iter()
        .map(|(value, label)| Choice {
            value: value.into(),
            label: label.into(),
            selected: filters.status.as_deref().unwrap_or("") == value,
        })
        .collect(),
        lines: found
            .items
            .into_iter()
            .map(|c| Line {
                may_change: c.status == "valid" && actor.coordinates(c.issuer.id),
                id: c.id,
                serial: c.serial,
                holder: c.holder.full_name,
                course: c.course.title,
                tier: labels::tier(&c.tier),
                issuer: c.issuer.name,
                issued_on: date(c.issued_on),
                valid_until: date(c.valid_until),
                status: labels::certificate_status(&c.status),
                status_class: c.status,
            })
            .collect(),
        total: found.total,
        page: found.page,
        pages,
        prev_href: (found.page > 1).then(|| {
            format!(
                "/certificates?{}",
                filters.query_string(Some(found.page - 1))
            )
        }),
        next_href: (found.page < pages).then(|| {
            format!(
                "/certificates?{}",
                filters.query_string(Some(found.page + 1))
            )
        }),
        export_query: filters.query_string(None),
        cohorts: cohort_choices,
        cohort: chosen_cohort,
        filters,
        notice,
        error: error.map(|(_, m)| m),
    };
    render_with(&view, status)
}

#[get("/certificates")]
pub async fn desk(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<DeskQuery>,
) -> Result<HttpResponse, PageError> {
    show(&state, &page, query.into_inner(), None, None).await
}

/// The list of a search as a file: `/certificates/export.csv` or `/certificates/export.xlsx`.
#[get("/certificates/export.{format}")]
pub async fn export(
    state: web::Data<AppState>,
    page: PageUser,
    format: web::Path<String>,
    query: web::Query<DeskQuery>,
) -> Result<HttpResponse, PageError> {
    let format = match format.as_str() {
        "xlsx" => ReportFormat::Xlsx,
        "csv" => ReportFormat::Csv,
        _ => return Err(AppError::NotFound.into()),
    };
    let search = query.into_inner().search(PER_PAGE)?;
    let export =
        service::export_certificates(&state.db, &page.actor(), search, viewing(&state), format)
            .await?;
    match export {
        Export::File {
            bytes,
            file_name,
            content_type,
        } => Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(file_name)],
            })
            .body(bytes)),
        Export::Json(_) => Err(AppError::NotFound.into()),
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    pub action: String,
    pub id: Uuid,
    pub reason: Option<String>,
    pub full_name: Option<String>,
    pub date_of_birth: Option<String>,
}

/// Revokes (with a reason) or reissues (with the corrected name or birth date) a certificate.
#[post("/certificates")]
pub async fn change(
    state: web::Data<AppState>,
    page: PageUser,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let actor = page.actor();
    let result = match form.action.as_str() {
        "revoke" => service::revoke(
            &state.db,
            &actor,
            form.id,
            form.reason.as_deref().unwrap_or(""),
            viewing(&state),
        )
        .await
        .map(|c| format!("Đã thu hồi giấy chứng nhận số {}.", c.serial)),
        "reissue" => service::reissue(
            &state.db,
            &actor,
            state.issuer(),
            form.id,
            form.full_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty()),
            form.date_of_birth.as_deref().filter(|d| !d.is_empty()),
            viewing(&state),
        )
        .await
        .map(|c| format!("Đã cấp lại: giấy chứng nhận mới số {}.", c.serial)),
        _ => Err(AppError::validation("action", "Thao tác không hợp lệ.")),
    };
    match result {
        Ok(notice) => show(&state, &page, DeskQuery::default(), Some(notice), None).await,
        Err(
            e @ (AppError::Validation(_)
            | AppError::Conflict { .. }
            | AppError::Forbidden
            | AppError::NotFound
            | AppError::Rule { .. }),
        ) => {
            let message = match &e {
                AppError::Validation(details) => details
                    .iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.public_message(),
            };
            show(
                &state,
                &page,
                DeskQuery::default(),
                None,
                Some((e.status_code(), message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
