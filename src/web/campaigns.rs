//! "Chiến dịch": the campaigns a person sees, by year, and — for a coordinator or an
//! administrator — a form to add one, pre-filled with the year's May campaign. Each handler
//! calls one use case of [`crate::service::campaigns`].

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse, ResponseError};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::page::{
    choices, render_with, see_other, Choice, FormErrors, Layout, PageError, PageUser,
};
use crate::domain::campaigns::may_campaign;
use crate::error::{AppError, FieldError};
use crate::service::campaigns::{self as service, CampaignInput};
use crate::service::organizations;
use crate::startup::AppState;

struct Line {
    name: String,
    organization: String,
    dates: String,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    layout: Layout,
    year: i32,
    lines: Vec<Line>,
    may_create: bool,
    organizations: Vec<Choice>,
    draft: CampaignForm,
    errors: FormErrors,
}

impl CampaignsPage {
    fn value(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize, Default)]
pub struct CampaignsQuery {
    pub year: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct CampaignForm {
    pub name: Option<String>,
    pub organization_id: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
}

impl CampaignForm {
    /// The form as it first shows: the year's May campaign, for the caller's own organisation.
    fn may_of(year: i32, organization: uuid::Uuid) -> Self {
        let (name, from, to) = may_campaign(year).unwrap_or_default();
        CampaignForm {
            name: Some(name),
            organization_id: Some(organization.to_string()),
            starts_on: Some(from.to_string()),
            ends_on: Some(to.to_string()),
        }
    }
}

fn year_of(value: Option<&str>, default: i32) -> Result<i32, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| AppError::validation("year", "Năm phải là một số, ví dụ 2027.")),
    }
}

async fn show(
    state: &AppState,
    page: &PageUser,
    year: i32,
    draft: Option<CampaignForm>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let actor = page.actor();
    let found = service::campaigns(&state.db, &actor, Some(year)).await?;
    let may_create = service::may_create_campaigns(&actor);
    let orgs = if may_create {
        organizations::organizations(&state.db, &actor).await?.items
    } else {
        Vec::new()
    };
    let draft = draft.unwrap_or_else(|| CampaignForm::may_of(year, actor.organization_id));
    let date = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    render_with(
        &CampaignsPage {
            layout: page.layout(),
            year,
            lines: found
                .items
                .into_iter()
                .map(|c| Line {
                    dates: format!("{} – {}", date(c.starts_on), date(c.ends_on)),
                    name: c.name,
                    organization: format!("{} ({})", c.organization.name, c.organization.code),
                })
                .collect(),
            may_create,
            organizations: choices(
                orgs.into_iter()
                    .map(|o| (o.id.to_string(), format!("{} ({})", o.name, o.code))),
                draft.organization_id.as_deref(),
            ),
            draft,
            errors,
        },
        status,
    )
}

#[get("/campaigns")]
pub async fn list(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<CampaignsQuery>,
) -> Result<HttpResponse, PageError> {
    let year = year_of(query.year.as_deref(), state.today().year())?;
    show(
        &state,
        &page,
        year,
        None,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// Reads the typed form into the use case's input, naming every field not of its form.
fn parse(form: &CampaignForm) -> Result<CampaignInput, AppError> {
    let mut errors = Vec::new();
    let organization_id = form
        .organization_id
        .as_deref()
        .and_then(|v| v.trim().parse::<Uuid>().ok());
    if organization_id.is_none() {
        errors.push(FieldError::new(
            "organization_id",
            "Chọn đơn vị của chiến dịch.",
        ));
    }
    let mut date = |field: &str, v: &Option<String>| {
        let parsed = v
            .as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok());
        if parsed.is_none() {
            errors.push(FieldError::new(
                field,
                "Nhập ngày theo dạng năm-tháng-ngày.",
            ));
        }
        parsed.unwrap_or_default()
    };
    let starts_on = date("starts_on", &form.starts_on);
    let ends_on = date("ends_on", &form.ends_on);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(CampaignInput {
        name: form.name.clone().unwrap_or_default(),
        organization_id: organization_id.unwrap_or_default(),
        starts_on,
        ends_on,
    })
}

#[post("/campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    page: PageUser,
    form: web::Form<CampaignForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let result = match parse(&form) {
        Ok(input) => service::create_campaign(&state.db, &page.actor(), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => Ok(see_other(&format!(
            "/campaigns?year={}",
            created.starts_on.year()
        ))),
        Err(
            e @ (AppError::Validation(_)
            | AppError::Conflict { .. }
            | AppError::Forbidden
            | AppError::NotFound),
        ) => {
            let year = form
                .starts_on
                .as_deref()
                .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
                .map_or_else(|| state.today().year(), |d| d.year());
            show(
                &state,
                &page,
                year,
                Some(form),
                FormErrors::from_error(&e),
                e.status_code(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
