//! The coordinator's schedule: cohorts by month with filters, and a new cohort. The cohort's own
//! page is in [`super::cohort`].

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse, ResponseError};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::labels;
use super::page::{
    choices, render, render_with, see_other, Choice, FormErrors, Layout, PageError, PageUser,
};
use crate::domain::people::Role;
use crate::error::AppError;
use crate::service::cohorts::{self as service, CohortInput, CohortSearch};
use crate::service::{campaigns, courses, organizations};
use crate::startup::AppState;

struct Line {
    id: Uuid,
    title: String,
    course: String,
    tier: &'static str,
    organization: String,
    dates: String,
    location: String,
    status: &'static str,
    status_class: String,
    enrolled: String,
}

#[derive(Template)]
#[template(path = "cohorts.html")]
struct SchedulePage {
    layout: Layout,
    month_label: String,
    prev_month: String,
    next_month: String,
    month: String,
    statuses: Vec<Choice>,
    courses: Vec<Choice>,
    organizations: Vec<Choice>,
    lines: Vec<Line>,
    total: i64,
    may_create: bool,
}

#[derive(Deserialize, Default)]
pub struct ScheduleQuery {
    /// `YYYY-MM`; this month by default.
    pub month: Option<String>,
    pub status: Option<String>,
    pub course_id: Option<String>,
    pub organization_id: Option<String>,
}

/// The first and last day of a month written `YYYY-MM`.
fn month_bounds(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some((first, next.pred_opt()?))
}

fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn uuid_param(value: &Option<String>) -> Option<Uuid> {
    value.as_deref().and_then(|v| v.parse().ok())
}

#[get("/cohorts")]
pub async fn schedule(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<ScheduleQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let today = state.today();
    let (from, to) = q
        .month
        .as_deref()
        .and_then(month_bounds)
        .or_else(|| month_bounds(&month_key(today)))
        .ok_or_else(|| AppError::validation("month", "Tháng không hợp lệ."))?;
    let actor = page.actor();
    let found = service::find_cohorts(
        &state.db,
        &actor,
        CohortSearch {
            from: Some(from),
            to: Some(to),
            organization_id: uuid_param(&q.organization_id),
            status: q.status.clone().filter(|s| !s.is_empty()),
            course_id: uuid_param(&q.course_id),
            page: Some(1),
            per_page: Some(100),
        },
    )
    .await?;
    let all_courses = courses::courses(&state.db).await?;
    let orgs = organizations::organizations(&state.db, &actor).await?;
    let date = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let mut statuses = vec![(String::new(), "Tất cả".to_string())];
    statuses.extend(
        ["planned", "open", "in_progress", "completed", "cancelled"]
            .iter()
            .map(|s| (s.to_string(), labels::cohort_status(s).to_string())),
    );
    let mut course_choices = vec![(String::new(), "Tất cả".to_string())];
    course_choices.extend(
        all_courses
            .items
            .iter()
            .map(|c| (c.id.to_string(), format!("{} — {}", c.code, c.title))),
    );
    let mut org_choices = vec![(String::new(), "Tất cả trong phạm vi".to_string())];
    org_choices.extend(
        orgs.items
            .iter()
            .map(|o| (o.id.to_string(), o.name.clone())),
    );
    render(&SchedulePage {
        layout: page.layout(),
        month_label: format!("Tháng {:02}/{}", from.month(), from.year()),
        prev_month: month_key(from.pred_opt().unwrap_or(from)),
        next_month: month_key(to.succ_opt().unwrap_or(to)),
        month: month_key(from),
        statuses: choices(statuses, q.status.as_deref()),
        courses: choices(course_choices, q.course_id.as_deref()),
        organizations: choices(org_choices, q.organization_id.as_deref()),
        total: found.total,
        lines: found
            .items
            .into_iter()
            .map(|c| Line {
                id: c.id,
                title: c.title,
                course: c.course.title,
                tier: labels::tier(&c.tier),
                organization: c.organization.name,
                dates: format!("{} – {}", date(c.starts_on), date(c.ends_on)),
                location: if c.mode == "online" {
                    "Trực tuyến".into()
                } else {
                    c.location
                },
                status: labels::cohort_status(&c.status),
                status_class: c.status,
                enrolled: format!("{}/{}", c.enrolled_count, c.capacity),
            })
            .collect(),
        may_create: page.has(Role::Admin) || page.has(Role::Coordinator),
    })
}

#[derive(Template)]
#[template(path = "cohort_new.html")]
struct NewCohortPage {
    layout: Layout,
    courses: Vec<Choice>,
    organizations: Vec<Choice>,
    modes: Vec<Choice>,
    campaigns: Vec<Choice>,
    draft: NewCohortForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewCohortForm {
    pub course_id: Option<String>,
    pub organization_id: Option<String>,
    pub title: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub location: Option<String>,
    pub mode: Option<String>,
    pub capacity: Option<String>,
    pub campaign_id: Option<String>,
    /// A campaign by name, as the form of earlier releases posted it.
    pub campaign: Option<String>,
}

impl NewCohortPage {
    fn value(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
}

async fn new_form(
    state: &AppState,
    page: &PageUser,
    draft: NewCohortForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let actor = page.actor();
    let all_courses = courses::courses(&state.db).await?;
    let orgs = organizations::organizations(&state.db, &actor).await?;
    let visible = campaigns::campaigns(&state.db, &actor, None).await?;
    let date = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let mut campaign_choices = vec![(String::new(), "Không thuộc chiến dịch nào".to_string())];
    campaign_choices.extend(visible.items.iter().map(|c| {
        (
            c.id.to_string(),
            format!(
                "{} — {} ({} – {})",
                c.name,
                c.organization.code,
                date(c.starts_on),
                date(c.ends_on)
            ),
        )
    }));
    render_with(
        &NewCohortPage {
            layout: page.layout(),
            courses: choices(
                all_courses
                    .items
                    .iter()
                    .filter(|c| c.superseded_by_id.is_none())
                    // only the tiers some organisation of the caller's may organise (rule 1)
                    .filter(|c| {
                        orgs.items.iter().any(|o| {
                            crate::domain::training::check_organizer(
                                c.tier(),
                                crate::domain::organizations::OrganizationKind::parse(&o.kind),
                            )
                            .is_ok()
                        })
                    })
                    .map(|c| {
                        (
                            c.id.to_string(),
                            format!("{} — {} ({})", c.code, c.title, labels::tier(&c.tier)),
                        )
                    }),
                draft.course_id.as_deref(),
            ),
            organizations: choices(
                orgs.items
                    .iter()
                    .map(|o| (o.id.to_string(), o.name.clone())),
                draft.organization_id.as_deref(),
            ),
            modes: choices(
                [
                    ("in_person".to_string(), "Trực tiếp".to_string()),
                    ("online".to_string(), "Trực tuyến".to_string()),
                ],
                Some(draft.mode.as_deref().unwrap_or("in_person")),
            ),
            campaigns: choices(campaign_choices, draft.campaign_id.as_deref()),
            draft,
            errors,
        },
        status,
    )
}

#[get("/cohorts/new")]
pub async fn new_page(
    state: web::Data<AppState>,
    page: PageUser,
) -> Result<HttpResponse, PageError> {
    if !(page.has(Role::Admin) || page.has(Role::Coordinator)) {
        return Err(AppError::Forbidden.into());
    }
    new_form(
        &state,
        &page,
        NewCohortForm::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// Reads the typed form into the use case's input, naming every field that is not what it
/// should be (dates `YYYY-MM-DD`, a whole number of places).
fn parse_new(form: &NewCohortForm) -> Result<CohortInput, AppError> {
    let mut errors = Vec::new();
    let mut uuid = |field: &str, v: &Option<String>, what: &str| {
        let parsed = v.as_deref().and_then(|s| s.parse::<Uuid>().ok());
        if parsed.is_none() {
            errors.push(crate::error::FieldError::new(field, what));
        }
        parsed.unwrap_or_default()
    };
    let course_id = uuid("course_id", &form.course_id, "Chọn khóa bồi dưỡng.");
    let organization_id = uuid(
        "organization_id",
        &form.organization_id,
        "Chọn đơn vị tổ chức.",
    );
    let mut date = |field: &str, v: &Option<String>| {
        let parsed = v
            .as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok());
        if parsed.is_none() {
            errors.push(crate::error::FieldError::new(
                field,
                "Nhập ngày theo dạng năm-tháng-ngày.",
            ));
        }
        parsed.unwrap_or_default()
    };
    let starts_on = date("starts_on", &form.starts_on);
    let ends_on = date("ends_on", &form.ends_on);
    let campaign_id = match form.campaign_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => match v.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(crate::error::FieldError::new(
                    "campaign_id",
                    "Chọn một chiến dịch trong danh sách.",
                ));
                None
            }
        },
    };
    let capacity = form
        .capacity
        .as_deref()
        .and_then(|c| c.trim().parse::<i32>().ok());
    if capacity.is_none() {
        errors.push(crate::error::FieldError::new(
            "capacity",
            "Nhập sĩ số là một số nguyên.",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(CohortInput {
        course_id,
        organization_id,
        title: form.title.clone().unwrap_or_default(),
        starts_on,
        ends_on,
        location: form.location.clone().unwrap_or_default(),
        mode: form.mode.clone().unwrap_or_else(|| "in_person".into()),
        capacity: capacity.unwrap_or_default(),
        campaign_id,
        campaign: form.campaign.clone().filter(|c| !c.trim().is_empty()),
    })
}

#[post("/cohorts/new")]
pub async fn create(
    state: web::Data<AppState>,
    page: PageUser,
    form: web::Form<NewCohortForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let result = match parse_new(&form) {
        Ok(input) => service::create_cohort(&state.db, &page.actor(), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(cohort) => Ok(see_other(&format!("/cohorts/{}", cohort.id))),
        Err(
            e @ (AppError::Validation(_)
            | AppError::Rule { .. }
            | AppError::Conflict { .. }
            | AppError::Forbidden
            | AppError::NotFound),
        ) => {
            new_form(
                &state,
                &page,
                form,
                FormErrors::from_error(&e),
                e.status_code(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
