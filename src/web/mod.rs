//! Web pages rendered on the server in Vietnamese (askama templates in `templates/`).

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
    cfg.service(stylesheet)
        .service(verify::lookup)
        .service(verify::page);
}
