//! "Chỉ tiêu": an administrator or a parent organisation's coordinator sees the organisations
//! below them with their targets of a year, and sets them, one form per row. Each handler calls
//! one use case of [`crate::service::targets`].

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse, ResponseError};
use askama::Template;
use chrono::Datelike;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{render_with, see_other, FormErrors, Layout, PageError, PageUser};
use crate::error::{AppError, FieldError};
use crate::service::targets as service;
use crate::startup::AppState;

struct Row {
    id: Uuid,
    name: String,
    code: String,
    master_trainers: String,
    propagandists: String,
    /// Set for the row whose form was posted and refused.
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    layout: Layout,
    year: i32,
    rows: Vec<Row>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TargetsQuery {
    pub year: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct TargetForm {
    pub organization_id: Option<String>,
    pub year: Option<String>,
    pub master_trainers: Option<String>,
    pub propagandists: Option<String>,
}

/// A year typed in the address or the form.
fn year_of(value: Option<&str>, default: i32) -> Result<i32, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| AppError::validation("year", "Năm phải là một số, ví dụ 2027.")),
    }
}

/// The board of a year, the refused form (if any) shown again on its row.
async fn board(
    state: &AppState,
    page: &PageUser,
    year: i32,
    refused: Option<(&TargetForm, &AppError)>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let found = service::target_board(&state.db, &page.actor(), year).await?;
    let refused_id = refused.and_then(|(f, _)| f.organization_id.as_deref());
    let rows = found
        .lines
        .into_iter()
        .map(|line| {
            let id = line.organization.id;
            let (m, p) = line
                .target
                .map(|t| (t.master_trainers.to_string(), t.propagandists.to_string()))
                .unwrap_or_default();
            match refused {
                Some((form, e)) if refused_id == Some(id.to_string().as_str()) => Row {
                    master_trainers: form.master_trainers.clone().unwrap_or_default(),
                    propagandists: form.propagandists.clone().unwrap_or_default(),
                    errors: FormErrors::from_error(e),
                    id,
                    name: line.organization.name,
                    code: line.organization.code,
                },
                _ => Row {
                    id,
                    name: line.organization.name,
                    code: line.organization.code,
                    master_trainers: m,
                    propagandists: p,
                    errors: FormErrors::default(),
                },
            }
        })
        .collect();
    render_with(
        &TargetsPage {
            layout: page.layout(),
            year,
            rows,
            notice: refused.map(|(_, e)| e.public_message()),
        },
        status,
    )
}

#[get("/targets")]
pub async fn board_page(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<TargetsQuery>,
) -> Result<HttpResponse, PageError> {
    let year = year_of(query.year.as_deref(), state.today().year())?;
    board(&state, &page, year, None, StatusCode::OK).await
}

/// A count typed in the form: a whole number, or the field's error.
fn count(field: &str, value: &Option<String>, errors: &mut Vec<FieldError>) -> i64 {
    match value.as_deref().map(str::trim).map(str::parse::<i64>) {
        Some(Ok(n)) => n,
        _ => {
            errors.push(FieldError::new(field, "Nhập một số nguyên từ 0 trở lên."));
            0
        }
    }
}

#[post("/targets")]
pub async fn save(
    state: web::Data<AppState>,
    page: PageUser,
    form: web::Form<TargetForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let year = year_of(form.year.as_deref(), state.today().year())?;
    let mut errors = Vec::new();
    let organization_id = form
        .organization_id
        .as_deref()
        .and_then(|v| v.trim().parse::<Uuid>().ok());
    let master_trainers = count("master_trainers", &form.master_trainers, &mut errors);
    let propagandists = count("propagandists", &form.propagandists, &mut errors);
    let result = match (organization_id, errors.is_empty()) {
        (None, _) => Err(AppError::validation(
            "organization_id",
            "Chọn một đơn vị trong danh sách.",
        )),
        (Some(_), false) => Err(AppError::Validation(errors)),
        (Some(id), true) => service::set_target(
            &state.db,
            &page.actor(),
            id,
            year,
            master_trainers,
            propagandists,
        )
        .await
        .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/targets?year={year}"))),
        Err(e @ (AppError::Validation(_) | AppError::Forbidden | AppError::NotFound)) => {
            // the board itself may be out of reach (a trainee): then its error page
            board(&state, &page, year, Some((&form, &e)), e.status_code()).await
        }
        Err(e) => Err(e.into()),
    }
}
