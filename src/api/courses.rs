//! `/courses`: what is taught, to which tier, under which curriculum version. Each handler
//! parses, calls one use case of [`crate::service::courses`] and answers.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::training::CourseRow;
use crate::error::AppError;
use crate::service::courses::{self as service, CourseInput, CourseList};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCourse {
    #[schema(min_length = 2, max_length = 32, example = "TTV-2027")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Bồi dưỡng tuyên truyền viên"
    )]
    pub title: String,
    #[schema(example = "propagandist")]
    pub tier: String,
    #[schema(min_length = 1, max_length = 60, example = "Luật BHXH 2024")]
    pub curriculum_version: String,
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 1, maximum = 1000)]
    pub required_hours: i32,
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 0, maximum = 100)]
    pub min_attendance_percent: i32,
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 0, maximum = 100)]
    pub pass_score: i32,
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 1, maximum = 240)]
    pub certificate_validity_months: i32,
    /// The course (an older curriculum version of the same tier) this one replaces.
    pub supersedes_id: Option<Uuid>,
}

impl From<CreateCourse> for CourseInput {
    fn from(b: CreateCourse) -> Self {
        CourseInput {
            code: b.code,
            title: b.title,
            tier: b.tier,
            curriculum_version: b.curriculum_version,
            required_hours: b.required_hours,
            min_attendance_percent: b.min_attendance_percent,
            pass_score: b.pass_score,
            certificate_validity_months: b.certificate_validity_months,
            supersedes_id: b.supersedes_id,
        }
    }
}

#[utoipa::path(post, operation_id = "courses_create", tag = "courses", path = "/api/v1/courses", request_body = CreateCourse,
    responses((status = 201, body = CourseRow), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/courses")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateCourse>,
) -> Result<HttpResponse, AppError> {
    let input = CourseInput::from(body.into_inner());
    let row = service::create_course(&state.db, &user.actor(), input, state.today()).await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(get, operation_id = "courses_list", tag = "courses", path = "/api/v1/courses", responses((status = 200, body = CourseList)))]
#[get("/courses")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let found = service::courses(&state.db).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, operation_id = "courses_get", tag = "courses", path = "/api/v1/courses/{id}", responses((status = 200, body = CourseRow), (status = 404, body = crate::error::ErrorBody)))]
#[get("/courses/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let row = service::course(&state.db, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(row))
}
