//! "Hồ sơ của tôi": the signed-in person's own cohorts with their marks, and their certificates
//! with a PDF download each.

use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::labels;
use super::page::{render, Layout, PageError, PageUser};
use crate::service::certificates::{self, CertificateSearch, Viewing};
use crate::service::people;
use crate::startup::AppState;

/// One cohort of the person, as the page shows it.
struct CohortLine {
    title: String,
    course: String,
    dates: String,
    attendance: String,
    score: String,
    result: &'static str,
    result_class: String,
}

/// One certificate of the person.
struct CertificateLine {
    id: uuid::Uuid,
    serial: String,
    course: String,
    tier: &'static str,
    status: &'static str,
    status_class: String,
    valid_until: String,
    verification_code: String,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    layout: Layout,
    cohorts: Vec<CohortLine>,
    certificates: Vec<CertificateLine>,
}

#[get("/me")]
pub async fn page(state: web::Data<AppState>, page: PageUser) -> Result<HttpResponse, PageError> {
    let actor = page.actor();
    let today = state.today();
    let records = people::training_record(&state.db, &actor, page.user.id, today).await?;
    let search = CertificateSearch {
        user_id: Some(page.user.id),
        per_page: Some(100),
        ..Default::default()
    };
    let viewing = Viewing {
        public_url: state.config.public_url.clone(),
        today,
    };
    let held = certificates::find_certificates(&state.db, &actor, search, viewing).await?;
    let date = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    render(&MePage {
        layout: page.layout(),
        cohorts: records
            .into_iter()
            .map(|r| CohortLine {
                title: r.cohort.title,
                course: r.course.title,
                dates: format!("{} – {}", date(r.cohort.starts_on), date(r.cohort.ends_on)),
                attendance: format!("{} %", labels::decimal(r.attendance_percent)),
                score: r.score.map(labels::decimal).unwrap_or_else(|| "—".into()),
                result: labels::enrollment_status(&r.status),
                result_class: r.status,
            })
            .collect(),
        certificates: held
            .items
            .into_iter()
            .map(|c| CertificateLine {
                id: c.id,
                serial: c.serial,
                course: c.course.title,
                tier: labels::tier(&c.tier),
                status: labels::certificate_status(&c.status),
                status_class: c.status,
                valid_until: date(c.valid_until),
                verification_code: c.verification_code,
            })
            .collect(),
    })
}
