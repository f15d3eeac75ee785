//! "Báo cáo độ phủ": the coverage table of the caller's scope, with CSV and XLSX downloads.

use actix_web::{get, web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::page::{render, Layout, PageError, PageUser};
use crate::error::AppError;
use crate::reports::CoverageItem;
use crate::service::reports::{self as service, Export};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    layout: Layout,
    as_of: NaiveDate,
    items: Vec<CoverageItem>,
    download_query: String,
}

#[derive(Deserialize)]
pub struct CoverageQuery {
    pub as_of: Option<NaiveDate>,
}

#[get("/reports/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<CoverageQuery>,
) -> Result<HttpResponse, PageError> {
    let as_of = query.as_of.unwrap_or_else(|| state.today());
    let export = service::coverage(&state.db, &page.actor(), None, as_of, "json").await?;
    let Export::Json(report) = export else {
        return Err(AppError::internal("coverage answered a file to a page").into());
    };
    render(&CoveragePage {
        layout: page.layout(),
        as_of: report.as_of,
        items: report.items,
        download_query: serde_urlencoded::to_string([("as_of", as_of.to_string())])
            .unwrap_or_default(),
    })
}
