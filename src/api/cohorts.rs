//! `/cohorts`: scheduled runs of a course, their instructors, sessions, enrolments, and
//! finalising them.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::current_user::{Actor, CurrentUser};
use crate::db::audit::AuditEvent;
use crate::db::organizations::{self as orgs, OrganizationRow};
use crate::db::schema::{cohort_instructors, enrollments};
use crate::db::training::{self as rows, EnrollmentRow};
use crate::db::users::PersonFacts;
use crate::domain::organizations::OrganizationKind;
use crate::domain::people::Category;
use crate::domain::training::check_eligibility;
use crate::error::AppError;
use crate::startup::AppState;

use crate::db::views::cohorts::{CohortPage, CohortView, InstructorView, SessionView};
use crate::db::views::enrollments::{enrollment_views, EnrollmentList, EnrollmentView};
use crate::service::certification::{self, FinalizeReport};
use crate::service::cohorts::{self as service, CohortChanges, CohortInput, CohortSearch};
use crate::service::staffing;
// re-exported while `marks.rs` still imports them from here
use crate::service::cohorts::lock_for_change;
pub use crate::service::cohorts::{reach_cohort, Access};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCohort {
    pub course_id: Uuid,
    pub organization_id: Uuid,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Required for an in-person cohort; printed on its certificates.
    #[schema(max_length = 150)]
    pub location: String,
    pub mode: String,
    pub capacity: i32,
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
    pub capacity: Option<i32>,
    #[schema(max_length = 100)]
    pub campaign: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CohortQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub organization_id: Option<Uuid>,
    pub status: Option<String>,
    pub course_id: Option<Uuid>,
    pub page: Option<i64>,
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
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 300)]
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

/// The person, or 404.
fn person_facts(conn: &mut PgConnection, id: Uuid) -> Result<PersonFacts, AppError> {
    crate::db::users::facts(conn, id)?.ok_or(AppError::NotFound)
}

fn require_active_person(who: &PersonFacts) -> Result<(), AppError> {
    if who.active {
        Ok(())
    } else {
        Err(AppError::Rule {
            code: "inactive_person",
            message: "This person's account is deactivated.".into(),
        })
    }
}

/// People come from the caller's scope; the state agency draws its tier-1 learners and
/// instructors from every organisation.
fn reaches_person(
    actor: &Actor,
    organizer: &OrganizationRow,
    person: Uuid,
    who: &PersonFacts,
) -> bool {
    OrganizationKind::parse(&organizer.kind) == Some(OrganizationKind::StateAgency)
        || actor.scope.covers_person(person, who.organization_id)
}

fn audit(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    object: &str,
    id: Uuid,
    details: serde_json::Value,
) -> QueryResult<()> {
    AuditEvent::new(actor.id, action, object)
        .object(id)
        .from_address(&actor.address)
        .details(details)
        .record(conn)
}

#[utoipa::path(post, path = "/api/v1/cohorts", request_body = CreateCohort,
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

#[utoipa::path(get, path = "/api/v1/cohorts", params(CohortQuery), responses((status = 200, body = CohortPage)))]
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

#[utoipa::path(get, path = "/api/v1/cohorts/{id}", responses((status = 200, body = CohortView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let view = service::cohort(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(patch, path = "/api/v1/cohorts/{id}", request_body = UpdateCohort,
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

#[utoipa::path(post, path = "/api/v1/cohorts/{id}/instructors", request_body = UserRef,
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

#[utoipa::path(delete, path = "/api/v1/cohorts/{id}/instructors/{user_id}",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
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

#[utoipa::path(post, path = "/api/v1/cohorts/{id}/sessions", request_body = CreateSession,
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

#[utoipa::path(post, path = "/api/v1/cohorts/{id}/enrollments", request_body = UserRef,
    responses((status = 201, body = EnrollmentView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[post("/cohorts/{id}/enrollments")]
pub async fn enroll(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UserRef>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, person) = (id.into_inner(), user.actor(), body.into_inner().user_id);
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                // the lock makes the capacity check and the insert one step
                let cohort = lock_for_change(conn, &actor, id)?;
                let who = person_facts(conn, person)?;
                let organizer = orgs::find(conn, cohort.organization_id)?;
                if !reaches_person(&actor, &organizer, person, &who) {
                    return Err(AppError::NotFound);
                }
                require_active_person(&who)?;
                let course = rows::course(conn, cohort.course_id)?;
                let person_province = orgs::find(conn, who.organization_id)?.province_code;
                check_eligibility(
                    course.tier(),
                    Category::parse(&who.category),
                    OrganizationKind::parse(&organizer.kind),
                    organizer.province_code.as_deref(),
                    person_province.as_deref(),
                )?;
                let teaching: i64 = cohort_instructors::table
                    .filter(cohort_instructors::cohort_id.eq(id))
                    .filter(cohort_instructors::user_id.eq(person))
                    .count()
                    .get_result(conn)?;
                if teaching > 0 {
                    return Err(AppError::conflict(
                        "This person teaches the cohort and cannot also enrol in it.",
                    ));
                }
                let existing: Option<EnrollmentRow> = enrollments::table
                    .filter(enrollments::cohort_id.eq(id))
                    .filter(enrollments::user_id.eq(person))
                    .select(EnrollmentRow::as_select())
                    .first(conn)
                    .optional()?;
                if existing.as_ref().is_some_and(|e| e.status != "withdrawn") {
                    return Err(AppError::Conflict {
                        code: "already_enrolled",
                        message: "This person is already enrolled in the cohort.".into(),
                    });
                }
                if rows::enrolled_count(conn, id)? >= i64::from(cohort.capacity) {
                    return Err(AppError::Conflict {
                        code: "cohort_full",
                        message: "The cohort has no free place.".into(),
                    });
                }
                let enrollment_id = match existing {
                    // someone who withdrew comes back: the same row, enrolled again
                    Some(e) => diesel::update(enrollments::table.find(e.id))
                        .set((
                            enrollments::status.eq("enrolled"),
                            enrollments::updated_at.eq(Utc::now()),
                        ))
                        .returning(enrollments::id)
                        .get_result(conn)?,
                    None => diesel::insert_into(enrollments::table)
                        .values((
                            enrollments::cohort_id.eq(id),
                            enrollments::user_id.eq(person),
                        ))
                        .returning(enrollments::id)
                        .get_result(conn)?,
                };
                audit(
                    conn,
                    &actor,
                    "enrolled",
                    "enrollment",
                    enrollment_id,
                    json!({ "cohort_id": id, "user_id": person }),
                )?;
                enrollment_views(conn, id, Some(enrollment_id))?
                    .pop()
                    .ok_or(AppError::NotFound)
            })
        })
        .await;
    let view = user.audited(result, "enroll").await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/cohorts/{id}/enrollments",
    responses((status = 200, body = EnrollmentList), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}/enrollments")]
pub async fn list_enrollments(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let items = state
        .db
        .run(move |conn| {
            let cohort = reach_cohort(conn, &actor, id, Access::Read)?;
            let all = enrollment_views(conn, cohort.id, None)?;
            // a trainee sees only their own line; staff of the organiser's scope and instructors see all
            let sees_all = actor.scope.covers_organization(cohort.organization_id)
                || actor.id.is_some_and(|me| {
                    cohort_instructors::table
                        .filter(cohort_instructors::cohort_id.eq(id))
                        .filter(cohort_instructors::user_id.eq(me))
                        .count()
                        .get_result::<i64>(conn)
                        .is_ok_and(|n| n > 0)
                });
            Ok(if sees_all {
                all
            } else {
                all.into_iter()
                    .filter(|e| Some(e.user_id) == actor.id)
                    .collect()
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(EnrollmentList { items }))
}

#[utoipa::path(delete, path = "/api/v1/cohorts/{id}/enrollments/{enrollment_id}",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[delete("/cohorts/{id}/enrollments/{enrollment_id}")]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let ((id, enrollment_id), actor) = (path.into_inner(), user.actor());
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                lock_for_change(conn, &actor, id)?;
                let e = rows::enrollment(conn, enrollment_id)?;
                if e.cohort_id != id {
                    return Err(AppError::NotFound);
                }
                if e.status != "enrolled" {
                    return Err(AppError::conflict(format!(
                        "The enrolment is {}; only an active one can be withdrawn.",
                        e.status
                    )));
                }
                diesel::update(enrollments::table.find(enrollment_id))
                    .set((
                        enrollments::status.eq("withdrawn"),
                        enrollments::updated_at.eq(Utc::now()),
                    ))
                    .execute(conn)?;
                audit(
                    conn,
                    &actor,
                    "withdrawn",
                    "enrollment",
                    enrollment_id,
                    json!({ "cohort_id": id }),
                )?;
                Ok(())
            })
        })
        .await;
    user.audited(result, "withdraw").await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rule 3 and 4: evaluates every enrolment in one transaction; idempotent, and safe when called
/// twice at once (the cohort row is locked, and a completed cohort changes nothing).
#[utoipa::path(post, path = "/api/v1/cohorts/{id}/finalize",
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
