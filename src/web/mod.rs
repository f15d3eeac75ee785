//! Web pages rendered on the server in Vietnamese (askama templates in `templates/`). Each page
//! handler parses the form or query, calls one use case of [`crate::service`] — the same the
//! JSON API calls — and renders the answer.

pub mod account;
pub mod campaigns;
pub mod certificates;
pub mod cohort;
pub mod cohorts;
pub mod help;
pub mod labels;
pub mod me;
pub mod outreach;
pub mod page;
pub mod people;
pub mod privacy;
pub mod reports;
pub mod retirement;
pub mod session;
pub mod targets;
pub mod upload;
pub mod verify;

use actix_web::{get, web, HttpResponse};

/// Static files under `assets/`, compiled in so a deployment is one binary.
#[get("/assets/css/cascade.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(include_str!("../../assets/css/cascade.css"))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // a scope for every page, so that a page's bad path, query or form answers as a page
    cfg.service(
        web::scope("")
            .app_data(page::path_config())
            .app_data(page::query_config())
            .app_data(page::form_config())
            .service(stylesheet)
            .service(account::login_form)
            .service(account::login)
            .service(account::logout)
            .service(account::home)
            .service(account::password_form)
            .service(account::change_password)
            .service(me::page)
            .service(privacy::my_data)
            .service(privacy::trail)
            .service(help::page)
            .service(people::list)
            .service(people::post)
            .service(people::person_page)
            .service(people::reveal_national_id)
            .service(retirement::confirm_page)
            .service(retirement::retire)
            .service(certificates::export)
            .service(certificates::desk)
            .service(certificates::change)
            .service(outreach::new_page)
            .service(outreach::record)
            .service(outreach::import_page)
            .service(outreach::import)
            .service(outreach::list)
            .service(outreach::entry_page)
            .service(outreach::change)
            .service(reports::coverage)
            .service(reports::outreach)
            .service(cohorts::schedule)
            .service(cohorts::new_page)
            .service(cohorts::create)
            .service(campaigns::list)
            .service(campaigns::create)
            .service(targets::board_page)
            .service(targets::save)
            .service(cohort::show_page)
            .service(cohort::post)
            .service(verify::lookup)
            .service(verify::page)
            .default_service(web::to(page::not_found)),
    );
}
