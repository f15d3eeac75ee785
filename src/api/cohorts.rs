//! `/cohorts`: scheduled runs of a course, their instructors, sessions, enrolments, and
//! finalising them. Each handler parses, calls one use case of [`crate::service::cohorts`],
//! [`crate::service::staffing`], [`crate::service::enrolment`] or
//! [`crate::service::certification`] and answers.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::views::cohorts::{CohortPage, CohortView, InstructorView, SessionView};
use crate::db::views::enrollments::{EnrollmentList, EnrollmentView};
use crate::error::AppError;
use crate::service::certification::{self, FinalizeReport};
use crate::service::cohorts::{self as service, CohortChanges, CohortInput, CohortSearch};
use crate::service::{enrolment, staffing};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCohort {
    pub course_id: Uuid,
    pub organization_id: Uuid,
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Lớp tuyên truyền viên tháng 5"
    )]
    pub title: String,
    #[schema(example = "2027-05-10")]
    pub starts_on: NaiveDate,
    /// Not before `starts_on`, at most 366 days after it.
    #[schema(example = "2027-05-11")]
    pub ends_on: NaiveDate,
    /// Required for an in-person cohort; printed on its certificates.
    #[schema(max_length = 150)]
    pub location: String,
    pub mode: String,
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 1, maximum = 10_000)]
    pub capacity: i32,
    /// The campaign the cohort belongs to: one of the organiser's or of an organisation above
    /// it (or a national one), overlapping the cohort's days; 422 `campaign_not_applicable`
    /// otherwise.
    pub campaign_id: Option<Uuid>,
    /// Earlier releases' way to name the campaign: its name, among the campaigns the organiser
    /// may use (422 `campaign_not_applicable` when none has it). `campaign_id` wins.
    #[schema(max_length = 100)]
    pub campaign: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCohort {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[schema(max_length = 150)]
    pub location: Option<String>,
    pub mode: Option<String>,
    #[serde(default, deserialize_with = "crate::api::whole::option_i32")]
    #[schema(minimum = 1, maximum = 10_000)]
    pub capacity: Option<i32>,
    /// Another campaign (checked as on creation), or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub campaign_id: Option<Option<Uuid>>,
    /// A campaign by name, as earlier releases took it (empty: none).
    #[schema(max_length = 100)]
    pub campaign: Option<String>,
    pub status: Option<String>,
}

/// A field that may be sent as `null` (`Some(None)`), unlike one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CohortQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub organization_id: Option<Uuid>,
    pub status: Option<String>,
    pub course_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    pub user_id: Uuid,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    #[schema(example = "2027-05-10T08:00:00+07:00")]
    pub starts_at: DateTime<Utc>,
    /// After `starts_at` by whole minutes, at most 12 hours, within the cohort's days.
    #[schema(example = "2027-05-10T11:30:00+07:00")]
    pub ends_at: DateTime<Utc>,
    #[schema(
        min_length = 1,
        max_length = 300,
        example = "Luật Bảo hiểm xã hội 2024"
    )]
    pub topic: String,
}

impl From<CreateCohort> for CohortInput {
    fn from(b: CreateCohort) -> Self {
        CohortInput {
            course_id: b.course_id,
            organization_id: b.organization_id,
            title: b.title,
            starts_on: b.starts_on,
            ends_on: b.ends_on,
            location: b.location,
            mode: b.mode,
            capacity: b.capacity,
            campaign_id: b.campaign_id,
            campaign: b.campaign,
        }
    }
}

impl From<UpdateCohort> for CohortChanges {
    fn from(b: UpdateCohort) -> Self {
        CohortChanges {
            title: b.title,
            starts_on: b.starts_on,
            ends_on: b.ends_on,
            location: b.location,
            mode: b.mode,
            capacity: b.capacity,
            campaign_id: b.campaign_id,
            campaign: b.campaign,
            status: b.status,
        }
    }
}

impl From<CohortQuery> for CohortSearch {
    fn from(q: CohortQuery) -> Self {
        CohortSearch {
            from: q.from,
            to: q.to,
            organization_id: q.organization_id,
            status: q.status,
            course_id: q.course_id,
            page: q.page,
            per_page: q.per_page,
        }
    }
}

#[utoipa::path(post, operation_id = "cohorts_create", tag = "cohorts", path = "/api/v1/cohorts", request_body = CreateCohort,
    responses((status = 201, body = CohortView), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
#[post("/cohorts")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateCohort>,
) -> Result<HttpResponse, AppError> {
    let input = CohortInput::from(body.into_inner());
    let view = service::create_cohort(&state.db, &user.actor(), input).await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, operation_id = "cohorts_list", tag = "cohorts", path = "/api/v1/cohorts", params(CohortQuery), responses((status = 200, body = CohortPage)))]
#[get("/cohorts")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CohortQuery>,
) -> Result<HttpResponse, AppError> {
    let search = CohortSearch::from(query.into_inner());
    let found = service::find_cohorts(&state.db, &user.actor(), search).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, operation_id = "cohorts_get", tag = "cohorts", path = "/api/v1/cohorts/{id}", responses((status = 200, body = CohortView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let view = service::cohort(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(patch, operation_id = "cohorts_update", tag = "cohorts", path = "/api/v1/cohorts/{id}", request_body = UpdateCohort,
    responses((status = 200, body = CohortView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[patch("/cohorts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateCohort>,
) -> Result<HttpResponse, AppError> {
    let changes = CohortChanges::from(body.into_inner());
    let view = service::update_cohort(&state.db, &user.actor(), id.into_inner(), changes).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, operation_id = "cohorts_add_instructor", tag = "cohorts", path = "/api/v1/cohorts/{id}/instructors", request_body = UserRef,
    responses((status = 201, body = InstructorView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[post("/cohorts/{id}/instructors")]
pub async fn add_instructor(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UserRef>,
) -> Result<HttpResponse, AppError> {
    let (id, person) = (id.into_inner(), body.user_id);
    let view = staffing::assign_instructor(&state.db, &user.actor(), id, person).await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(delete, operation_id = "cohorts_remove_instructor", tag = "cohorts", path = "/api/v1/cohorts/{id}/instructors/{user_id}",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
#[delete("/cohorts/{id}/instructors/{user_id}")]
pub async fn remove_instructor(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, person) = path.into_inner();
    staffing::remove_instructor(&state.db, &user.actor(), id, person).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "cohorts_add_session", tag = "cohorts", path = "/api/v1/cohorts/{id}/sessions", request_body = CreateSession,
    responses((status = 201, body = SessionView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/cohorts/{id}/sessions")]
pub async fn add_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<CreateSession>,
) -> Result<HttpResponse, AppError> {
    let (id, b) = (id.into_inner(), body.into_inner());
    let view = service::add_session(
        &state.db,
        &user.actor(),
        id,
        b.starts_at,
        b.ends_at,
        &b.topic,
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(post, operation_id = "cohorts_enroll", tag = "cohorts", path = "/api/v1/cohorts/{id}/enrollments", request_body = UserRef,
    responses((status = 201, body = EnrollmentView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[post("/cohorts/{id}/enrollments")]
pub async fn enroll(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UserRef>,
) -> Result<HttpResponse, AppError> {
    let (id, person) = (id.into_inner(), body.user_id);
    let view = enrolment::enroll(&state.db, &user.actor(), id, person).await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, operation_id = "cohorts_list_enrollments", tag = "cohorts", path = "/api/v1/cohorts/{id}/enrollments",
    responses((status = 200, body = EnrollmentList), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}/enrollments")]
pub async fn list_enrollments(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let found = enrolment::enrollments(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(delete, operation_id = "cohorts_withdraw", tag = "cohorts", path = "/api/v1/cohorts/{id}/enrollments/{enrollment_id}",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[delete("/cohorts/{id}/enrollments/{enrollment_id}")]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, enrollment_id) = path.into_inner();
    enrolment::withdraw(&state.db, &user.actor(), id, enrollment_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rule 3 and 4: evaluates every enrolment in one transaction; idempotent, and safe when called
/// twice at once (the cohort row is locked, and a completed cohort changes nothing).
#[utoipa::path(post, operation_id = "cohorts_finalize", tag = "cohorts", path = "/api/v1/cohorts/{id}/finalize",
    responses((status = 200, body = FinalizeReport), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[post("/cohorts/{id}/finalize")]
pub async fn finalize(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (issuer, today) = (state.issuer(), state.today());
    let report =
        certification::finalize(&state.db, &user.actor(), issuer, id.into_inner(), today).await?;
    Ok(HttpResponse::Ok().json(report))
}
