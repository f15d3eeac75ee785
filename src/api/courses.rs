//! `/courses`: what is taught, to which tier, under which curriculum version.

use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::audit::AuditEvent;
use crate::db::schema::courses;
use crate::db::training::{self as rows, CourseRow};
use crate::domain::organizations::{clean_text, OrganizationKind};
use crate::domain::people::Role;
use crate::domain::training::{may_create_course, Tier};
use crate::error::{AppError, FieldError};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCourse {
    #[schema(min_length = 2, max_length = 32)]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub tier: String,
    #[schema(min_length = 1, max_length = 60)]
    pub curriculum_version: String,
    pub required_hours: i32,
    pub min_attendance_percent: i32,
    pub pass_score: i32,
    pub certificate_validity_months: i32,
    /// The course (an older curriculum version of the same tier) this one replaces.
    pub supersedes_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CourseList {
    pub items: Vec<CourseRow>,
}

fn check(body: &CreateCourse) -> Result<(String, String, Tier, String), AppError> {
    let mut errors = Vec::new();
    let code = body.code.trim().to_uppercase();
    if !(2..=32).contains(&code.len())
        || !code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
    {
        errors.push(FieldError::new(
            "code",
            "must be 2 to 32 characters: letters, digits, '-', '_' or '.'",
        ));
    }
    // both are printed on certificates: no character the font cannot draw
    let printed = |field: &'static str, raw: &str, max: usize, errors: &mut Vec<FieldError>| {
        crate::domain::text::check_text(field, raw, max)
            .and_then(|t| {
                crate::domain::text::check_drawable(field, &t, crate::certificates::pdf::can_draw)
                    .map(|()| clean_text(&t))
            })
            .map_err(|e| errors.push(e))
            .unwrap_or_default()
    };
    let title = printed(
        "title",
        &body.title,
        crate::domain::text::limits::COURSE_TITLE,
        &mut errors,
    );
    let tier = Tier::parse(&body.tier);
    if tier.is_none() {
        errors.push(FieldError::new(
            "tier",
            "must be master_trainer or propagandist",
        ));
    }
    let version = printed(
        "curriculum_version",
        &body.curriculum_version,
        crate::domain::text::limits::CURRICULUM_VERSION,
        &mut errors,
    );
    if !(1..=1000).contains(&body.required_hours) {
        errors.push(FieldError::new("required_hours", "must be from 1 to 1000"));
    }
    if !(0..=100).contains(&body.min_attendance_percent) {
        errors.push(FieldError::new(
            "min_attendance_percent",
            "must be from 0 to 100",
        ));
    }
    if !(0..=100).contains(&body.pass_score) {
        errors.push(FieldError::new("pass_score", "must be from 0 to 100"));
    }
    if !(1..=240).contains(&body.certificate_validity_months) {
        errors.push(FieldError::new(
            "certificate_validity_months",
            "must be from 1 to 240",
        ));
    }
    match tier {
        Some(tier) if errors.is_empty() => Ok((code, title, tier, version)),
        _ => Err(AppError::Validation(errors)),
    }
}

#[utoipa::path(post, path = "/api/v1/courses", request_body = CreateCourse,
    responses((status = 201, body = CourseRow), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/courses")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateCourse>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Admin, Role::Coordinator], "create_course")
        .await?;
    let body = body.into_inner();
    let (code, title, tier, version) = check(&body)?;
    let (actor, org_id) = (user.actor(), user.organization_id);
    let result = state
        .db
        .run(move |conn| {
            let own_kind =
                OrganizationKind::parse(&crate::db::organizations::find(conn, org_id)?.kind);
            let coordinator_of = own_kind.filter(|_| actor.has(Role::Coordinator));
            if !may_create_course(tier, actor.has(Role::Admin), coordinator_of) {
                return Err(AppError::Forbidden);
            }
            conn.transaction(|conn| {
                let row: CourseRow = diesel::insert_into(courses::table)
                    .values((
                        courses::code.eq(&code),
                        courses::title.eq(&title),
                        courses::tier.eq(tier.as_str()),
                        courses::curriculum_version.eq(&version),
                        courses::required_hours.eq(body.required_hours),
                        courses::min_attendance_percent.eq(body.min_attendance_percent),
                        courses::pass_score.eq(body.pass_score),
                        courses::certificate_validity_months.eq(body.certificate_validity_months),
                    ))
                    .returning(CourseRow::as_returning())
                    .get_result(conn)
                    .map_err(|e| match AppError::from(e) {
                        AppError::Conflict { .. } => {
                            AppError::conflict("A course with this code exists.")
                        }
                        other => other,
                    })?;
                if let Some(old_id) = body.supersedes_id {
                    // locked, so that of two courses superseding it at once the second waits,
                    // then sees the first one's mark and is refused
                    let old: CourseRow = courses::table
                        .find(old_id)
                        .select(CourseRow::as_select())
                        .for_update()
                        .first(conn)
                        .optional()?
                        .ok_or_else(|| {
                            AppError::validation("supersedes_id", "no course has this id")
                        })?;
                    if old.tier() != tier || old.curriculum_version == version {
                        return Err(AppError::validation(
                            "supersedes_id",
                            "must be a course of the same tier with another curriculum version",
                        ));
                    }
                    if old.superseded_by_id.is_some() {
                        return Err(AppError::conflict(
                            "That course has already been superseded.",
                        ));
                    }
                    diesel::update(courses::table.find(old_id))
                        .set((
                            courses::superseded_by_id.eq(row.id),
                            courses::updated_at.eq(chrono::Utc::now()),
                        ))
                        .execute(conn)?;
                }
                AuditEvent::new(actor.id, "course_created", "course")
                    .object(row.id)
                    .from_address(&actor.address)
                    .details(json!({ "code": row.code, "supersedes_id": body.supersedes_id }))
                    .record(conn)?;
                Ok(row)
            })
        })
        .await;
    let row = user.audited(result, "create_course").await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(get, path = "/api/v1/courses", responses((status = 200, body = CourseList)))]
#[get("/courses")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let items = state
        .db
        .run(|conn| {
            Ok(courses::table
                .order((courses::tier.asc(), courses::code.asc()))
                .select(CourseRow::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CourseList { items }))
}

#[utoipa::path(get, path = "/api/v1/courses/{id}", responses((status = 200, body = CourseRow), (status = 404, body = crate::error::ErrorBody)))]
#[get("/courses/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| Ok(rows::course(conn, id)?))
        .await?;
    Ok(HttpResponse::Ok().json(row))
}
