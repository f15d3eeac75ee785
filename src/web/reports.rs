//! "Báo cáo độ phủ" and "Báo cáo kết quả tuyên truyền": the reports of the caller's scope with
//! their filters and CSV and XLSX downloads; each calls one service function and renders.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse, ResponseError};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{choices, render_with, Choice, FormErrors, Layout, PageError, PageUser};
use crate::domain::outreach::OutreachForm;
use crate::domain::reports::year_to_date;
use crate::error::AppError;
use crate::reports::outreach::FORMS;
use crate::reports::{CoverageItem, OutreachItem};
use crate::service::reports::{self as service, Export};
use crate::service::{campaigns, organizations};
use crate::startup::AppState;

/// The filters as typed: kept as text so that a bad one is shown again with its message.
#[derive(Deserialize, Default)]
pub struct ReportQuery {
    pub as_of: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub organization_id: Option<String>,
    pub campaign_id: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A day typed in a filter; none when empty.
fn day(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    given(value)
        .map(|v| {
            v.parse::<NaiveDate>()
                .map_err(|_| AppError::validation(field, "Ngày không hợp lệ (năm-tháng-ngày)."))
        })
        .transpose()
}

/// An id chosen in a filter; none when empty.
fn id(field: &str, value: &Option<String>) -> Result<Option<Uuid>, AppError> {
    given(value)
        .map(|v| {
            v.parse::<Uuid>()
                .map_err(|_| AppError::validation(field, "Lựa chọn không hợp lệ."))
        })
        .transpose()
}

/// The filters' choices: organisations in scope, campaigns visible.
async fn filter_choices(
    state: &AppState,
    page: &PageUser,
    q: &ReportQuery,
) -> Result<(Vec<Choice>, Vec<Choice>), AppError> {
    let actor = page.actor();
    let orgs = organizations::organizations(&state.db, &actor).await?;
    let visible = campaigns::campaigns(&state.db, &actor, None).await?;
    let mut org_choices = vec![(String::new(), "Tất cả trong phạm vi".to_string())];
    org_choices.extend(
        orgs.items
            .iter()
            .map(|o| (o.id.to_string(), format!("{} ({})", o.name, o.code))),
    );
    let mut campaign_choices = vec![(String::new(), "Tất cả".to_string())];
    campaign_choices.extend(visible.items.iter().map(|c| {
        (
            c.id.to_string(),
            format!(
                "{} — {} ({} – {})",
                c.name,
                c.organization.code,
                c.starts_on.format("%d/%m/%Y"),
                c.ends_on.format("%d/%m/%Y")
            ),
        )
    }));
    Ok((
        choices(org_choices, given(&q.organization_id)),
        choices(campaign_choices, given(&q.campaign_id)),
    ))
}

/// The filters again as a query string for the download links (only those given).
fn download_query(pairs: &[(&str, Option<String>)]) -> String {
    let given: Vec<(&str, String)> = pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (*k, v)))
        .collect();
    serde_urlencoded::to_string(given).unwrap_or_default()
}

/// A share as the page shows it: "75,0 %", or a dash without a target.
fn percent(share: Option<f64>) -> String {
    match share {
        Some(s) => format!("{:.1} %", s * 100.0).replace('.', ","),
        None => "—".into(),
    }
}

fn figure(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "—".into())
}

struct CoverageRow {
    item: CoverageItem,
    target_masters: String,
    target_propagandists: String,
    share_masters: String,
    share_propagandists: String,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    layout: Layout,
    as_of: String,
    as_of_label: String,
    organizations: Vec<Choice>,
    campaigns: Vec<Choice>,
    rows: Vec<CoverageRow>,
    errors: FormErrors,
    download_query: String,
}

#[get("/reports/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let (organizations, campaigns) = filter_choices(&state, &page, &q).await?;
    let asked = async {
        let as_of = day("as_of", &q.as_of)?.unwrap_or_else(|| state.today());
        let organization_id = id("organization_id", &q.organization_id)?;
        let campaign_id = id("campaign_id", &q.campaign_id)?;
        let export = service::coverage(
            &state.db,
            &page.actor(),
            organization_id,
            as_of,
            campaign_id,
            "json",
        )
        .await?;
        match export {
            Export::Json(report) => Ok(report),
            Export::File { .. } => Err(AppError::internal("coverage answered a file to a page")),
        }
    }
    .await;
    let (report, errors, status) = match asked {
        Ok(report) => (Some(report), FormErrors::default(), StatusCode::OK),
        Err(e @ (AppError::Validation(_) | AppError::NotFound)) => {
            (None, FormErrors::from_error(&e), e.status_code())
        }
        Err(e) => return Err(e.into()),
    };
    let as_of = report.as_ref().map(|r| r.as_of);
    let rows = report
        .map(|r| r.items)
        .unwrap_or_default()
        .into_iter()
        .map(|item| CoverageRow {
            target_masters: figure(item.targets.master_trainers),
            target_propagandists: figure(item.targets.propagandists),
            share_masters: percent(item.share.master_trainers),
            share_propagandists: percent(item.share.propagandists),
            item,
        })
        .collect();
    render_with(
        &CoveragePage {
            layout: page.layout(),
            as_of: as_of
                .map(|d| d.to_string())
                .or_else(|| given(&q.as_of).map(str::to_string))
                .unwrap_or_default(),
            as_of_label: as_of
                .map(|d| d.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            organizations,
            campaigns,
            rows,
            download_query: download_query(&[
                ("as_of", as_of.map(|d| d.to_string())),
                (
                    "organization_id",
                    given(&q.organization_id).map(str::to_string),
                ),
                ("campaign_id", given(&q.campaign_id).map(str::to_string)),
            ]),
            errors,
        },
        status,
    )
}

struct FormColumn {
    label: &'static str,
}

struct OutreachRow {
    item: OutreachItem,
    by_form: [i64; 6],
}

struct MonthRow {
    label: String,
    activities: i64,
    audience: i64,
}

#[derive(Template)]
#[template(path = "outreach_report.html")]
struct OutreachPage {
    layout: Layout,
    from: String,
    to: String,
    period_label: String,
    organizations: Vec<Choice>,
    campaigns: Vec<Choice>,
    forms: Vec<FormColumn>,
    rows: Vec<OutreachRow>,
    months: Vec<MonthRow>,
    errors: FormErrors,
    download_query: String,
}

#[get("/reports/outreach")]
pub async fn outreach(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let (organizations, campaigns) = filter_choices(&state, &page, &q).await?;
    let asked = async {
        let (first, last) = year_to_date(state.today());
        let from = day("from", &q.from)?.unwrap_or(first);
        let to = day("to", &q.to)?.unwrap_or(last);
        let organization_id = id("organization_id", &q.organization_id)?;
        let campaign_id = id("campaign_id", &q.campaign_id)?;
        let export = service::outreach(
            &state.db,
            &page.actor(),
            organization_id,
            (from, to),
            campaign_id,
            "json",
        )
        .await?;
        match export {
            Export::Json(report) => Ok(report),
            Export::File { .. } => Err(AppError::internal("outreach answered a file to a page")),
        }
    }
    .await;
    let (report, errors, status) = match asked {
        Ok(report) => (Some(report), FormErrors::default(), StatusCode::OK),
        Err(e @ (AppError::Validation(_) | AppError::NotFound)) => {
            (None, FormErrors::from_error(&e), e.status_code())
        }
        Err(e) => return Err(e.into()),
    };
    let period = report.as_ref().map(|r| (r.from, r.to));
    let (rows, months) = match report {
        Some(r) => (
            r.items
                .into_iter()
                .map(|item| OutreachRow {
                    by_form: item.by_form.values(),
                    item,
                })
                .collect(),
            r.by_month
                .into_iter()
                .map(|m| MonthRow {
                    label: month_label(&m.month),
                    activities: m.activities,
                    audience: m.audience,
                })
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let shown = |field: &Option<String>, d: Option<NaiveDate>| {
        d.map(|d| d.to_string())
            .or_else(|| given(field).map(str::to_string))
            .unwrap_or_default()
    };
    render_with(
        &OutreachPage {
            layout: page.layout(),
            from: shown(&q.from, period.map(|p| p.0)),
            to: shown(&q.to, period.map(|p| p.1)),
            period_label: period
                .map(|(f, t)| format!("Từ {} đến {}", f.format("%d/%m/%Y"), t.format("%d/%m/%Y")))
                .unwrap_or_default(),
            organizations,
            campaigns,
            forms: FORMS
                .iter()
                .map(|f| FormColumn {
                    label: OutreachForm::parse(f).map_or("", OutreachForm::label),
                })
                .collect(),
            rows,
            months,
            download_query: download_query(&[
                ("from", period.map(|p| p.0.to_string())),
                ("to", period.map(|p| p.1.to_string())),
                (
                    "organization_id",
                    given(&q.organization_id).map(str::to_string),
                ),
                ("campaign_id", given(&q.campaign_id).map(str::to_string)),
            ]),
            errors,
        },
        status,
    )
}

/// "2027-05" as "Tháng 05/2027".
fn month_label(month: &str) -> String {
    match month.split_once('-') {
        Some((y, m)) => format!("Tháng {m}/{y}"),
        None => month.to_string(),
    }
}
