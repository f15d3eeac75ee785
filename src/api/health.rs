//! Probes for load balancers and orchestrators.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::error::AppError;
use crate::startup::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is alive; touches no database.
#[utoipa::path(get, operation_id = "health_healthz", tag = "health", path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers; 503 `unavailable` when it does not.
#[utoipa::path(
    get, operation_id = "health_readyz", tag = "health",
    path = "/readyz",
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody))
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.db.answers().await?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
