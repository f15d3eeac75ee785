//! `/campaigns`: named periods (the yearly May campaign among them) that cohorts and outreach
//! belong to. Each handler parses, calls one use case of [`crate::service::campaigns`] and
//! answers.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::error::AppError;
use crate::service::campaigns::{self as service, Campaign, CampaignInput, CampaignList};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaign {
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Tháng vận động triển khai BHXH toàn dân năm 2027"
    )]
    pub name: String,
    pub organization_id: Uuid,
    #[schema(example = "2027-05-01")]
    pub starts_on: NaiveDate,
    /// Not before `starts_on`.
    #[schema(example = "2027-05-31")]
    pub ends_on: NaiveDate,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CampaignQuery {
    /// Only campaigns whose days overlap this year.
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: Option<i64>,
}

/// Every campaign of an organisation in the caller's scope, of their own organisation and those
/// above it, and the national ones; latest first.
#[utoipa::path(get, operation_id = "campaigns_list", tag = "campaigns", path = "/api/v1/campaigns", params(CampaignQuery),
    responses((status = 200, body = CampaignList), (status = 400, body = crate::error::ErrorBody)))]
#[get("/campaigns")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CampaignQuery>,
) -> Result<HttpResponse, AppError> {
    let year = match query.into_inner().year {
        Some(y) => Some(
            i32::try_from(y)
                .map_err(|_| AppError::validation("year", "Năm phải từ 1900 đến 2200."))?,
        ),
        None => None,
    };
    let found = service::campaigns(&state.db, &user.actor(), year).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, operation_id = "campaigns_get", tag = "campaigns", path = "/api/v1/campaigns/{id}",
    responses((status = 200, body = Campaign), (status = 404, body = crate::error::ErrorBody)))]
#[get("/campaigns/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let found = service::campaign(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Adds a campaign for an organisation the caller coordinates (theirs or one below it).
#[utoipa::path(post, operation_id = "campaigns_create", tag = "campaigns", path = "/api/v1/campaigns", request_body = CreateCampaign,
    responses((status = 201, body = Campaign), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
#[post("/campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateCampaign>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let input = CampaignInput {
        name: b.name,
        organization_id: b.organization_id,
        starts_on: b.starts_on,
        ends_on: b.ends_on,
    };
    let created = service::create_campaign(&state.db, &user.actor(), input).await?;
    Ok(HttpResponse::Created().json(created))
}
