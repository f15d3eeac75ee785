//! Probes for load balancers and orchestrators.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use diesel::RunQueryDsl;
use serde::Serialize;

use crate::error::AppError;
use crate::startup::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is alive; touches no database.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers; 503 `unavailable` when it does not.
#[utoipa::path(
    get,
    path = "/readyz",
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pool = state.db.pool().clone();
    web::block(move || -> Result<(), AppError> {
        // a short wait: a probe must answer quickly either way
        let mut conn = pool
            .get_timeout(Duration::from_secs(1))
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        Ok(())
    })
    .await
    .map_err(AppError::internal)??;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
