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
use crate::db::schema::{cohort_instructors, cohorts, enrollments, sessions, users};
use crate::db::training::{self as rows, CohortRow, EnrollmentRow, SessionRow};
use crate::domain::organizations::{clean_text, OrganizationKind};
use crate::domain::people::{Category, Role};
use crate::domain::training::{
    self, check_eligibility, check_organizer, check_transition, instructor_not_certified,
    CohortStatus,
};
use crate::error::{AppError, FieldError};
use crate::startup::AppState;

use crate::db::views::cohorts::{cohort_view, CohortPage, CohortView, InstructorView, SessionView};
use crate::db::views::enrollments::{enrollment_views, EnrollmentList, EnrollmentView};
use crate::domain::paging::paging;
use crate::service::certification::{self, FinalizeReport};
// re-exported while `marks.rs` still imports them from here
use crate::service::cohorts::{
    lock_for_change, require_active, require_certified_instructor, status_of,
};
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

/// What enrolling or assigning needs to know of a person.
struct PersonFacts {
    full_name: String,
    category: String,
    active: bool,
    organization_id: Uuid,
}

impl PersonFacts {
    fn require_active(&self) -> Result<(), AppError> {
        if self.active {
            Ok(())
        } else {
            Err(AppError::Rule {
                code: "inactive_person",
                message: "This person's account is deactivated.".into(),
            })
        }
    }
}

/// The person, or 404.
fn person_facts(conn: &mut PgConnection, id: Uuid) -> Result<PersonFacts, AppError> {
    let (full_name, category, active, organization_id) = users::table
        .find(id)
        .select((
            users::full_name,
            users::category,
            users::active,
            users::organization_id,
        ))
        .first::<(String, String, bool, Uuid)>(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok(PersonFacts {
        full_name,
        category,
        active,
        organization_id,
    })
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

/// The checked text fields of a cohort: title, location, campaign.
struct CohortText {
    title: String,
    location: String,
    campaign: Option<String>,
}

fn check_fields(
    title: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    location: &str,
    mode: &str,
    capacity: i32,
    campaign: Option<&str>,
) -> Result<CohortText, Vec<FieldError>> {
    use crate::domain::text::{check_drawable, limits, TextRule};
    let mut errors = Vec::new();
    let mut text = |rule: TextRule, raw: &str| {
        rule.check(raw)
            .map(|t| clean_text(&t))
            .map_err(|e| errors.push(e))
            .unwrap_or_default()
    };
    let title = text(TextRule::line("title", limits::COHORT_TITLE), title);
    // printed on certificates, which must always fit and show every character
    let location = text(
        TextRule::line("location", limits::COHORT_LOCATION).optional(),
        location,
    );
    let campaign = campaign
        .map(|c| text(TextRule::line("campaign", limits::CAMPAIGN).optional(), c))
        .filter(|c| !c.is_empty());
    if let Err(e) = check_drawable("location", &location, crate::certificates::pdf::can_draw) {
        errors.push(e);
    }
    if ends_on < starts_on {
        errors.push(FieldError::new("ends_on", "must not be before starts_on"));
    }
    if (ends_on - starts_on).num_days() > 366 {
        errors.push(FieldError::new("ends_on", "a cohort lasts at most a year"));
    }
    if !matches!(mode, "in_person" | "online") {
        errors.push(FieldError::new("mode", "must be in_person or online"));
    }
    if mode == "in_person" && location.is_empty() && !errors.iter().any(|e| e.field == "location") {
        errors.push(FieldError::new(
            "location",
            "is required for an in-person cohort",
        ));
    }
    if !(1..=10_000).contains(&capacity) {
        errors.push(FieldError::new("capacity", "must be from 1 to 10000"));
    }
    if errors.is_empty() {
        Ok(CohortText {
            title,
            location,
            campaign,
        })
    } else {
        Err(errors)
    }
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
    user.require_any(&[Role::Admin, Role::Coordinator], "create_cohort")
        .await?;
    let body = body.into_inner();
    training::check_dates(&[
        ("starts_on", Some(body.starts_on)),
        ("ends_on", Some(body.ends_on)),
    ])?;
    let CohortText {
        title,
        location,
        campaign,
    } = check_fields(
        &body.title,
        body.starts_on,
        body.ends_on,
        &body.location,
        &body.mode,
        body.capacity,
        body.campaign.as_deref(),
    )
    .map_err(AppError::Validation)?;
    if !user.scope.covers_organization(body.organization_id) {
        return Err(AppError::NotFound);
    }
    let actor = user.actor();
    let result = state
        .db
        .run(move |conn| {
            let course = rows::course(conn, body.course_id)
                .optional()?
                .ok_or_else(|| AppError::validation("course_id", "no course has this id"))?;
            let organizer = orgs::find(conn, body.organization_id)?;
            check_organizer(course.tier(), OrganizationKind::parse(&organizer.kind))?;
            if !actor.coordinates(organizer.id) {
                return Err(AppError::Forbidden);
            }
            if course.superseded_by_id.is_some() {
                return Err(AppError::Rule {
                    code: "course_superseded",
                    message: "This course has been replaced by a newer curriculum version; schedule the new one.".into(),
                });
            }
            conn.transaction(|conn| {
                let row: CohortRow = diesel::insert_into(cohorts::table)
                    .values((
                        cohorts::course_id.eq(course.id),
                        cohorts::organization_id.eq(organizer.id),
                        cohorts::title.eq(&title),
                        cohorts::starts_on.eq(body.starts_on),
                        cohorts::ends_on.eq(body.ends_on),
                        cohorts::location.eq(&location),
                        cohorts::mode.eq(&body.mode),
                        cohorts::capacity.eq(body.capacity),
                        cohorts::campaign.eq(&campaign),
                    ))
                    .returning(CohortRow::as_returning())
                    .get_result(conn)?;
                audit(conn, &actor, "cohort_created", "cohort", row.id, json!({ "course_id": course.id, "organization_id": organizer.id }))?;
                cohort_view(conn, row, true)
            })
        })
        .await;
    let view = user.audited(result, "create_cohort").await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/cohorts", params(CohortQuery), responses((status = 200, body = CohortPage)))]
#[get("/cohorts")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CohortQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let (page, per_page) = paging(q.page, q.per_page)?;
    training::check_dates(&[("from", q.from), ("to", q.to)])?;
    let status = match q.status.as_deref() {
        Some(s) => Some(
            CohortStatus::parse(s)
                .ok_or_else(|| AppError::validation("status", "is not a cohort status"))?,
        ),
        None => None,
    };
    let actor = user.actor();
    let page_of = state
        .db
        .run(move |conn| {
            let org_filter = match (q.organization_id, actor.scope.organization_filter()) {
                (Some(org), _) if actor.scope.covers_organization(org) => {
                    Some(orgs::subtree_ids(conn, org)?)
                }
                (Some(_), _) => return Err(AppError::NotFound),
                (None, f) => f,
            };
            let me = actor.id.unwrap_or_default();
            let build = || {
                let participant = cohorts::id
                    .eq_any(
                        enrollments::table
                            .filter(enrollments::user_id.eq(me))
                            .select(enrollments::cohort_id),
                    )
                    .or(cohorts::id.eq_any(
                        cohort_instructors::table
                            .filter(cohort_instructors::user_id.eq(me))
                            .select(cohort_instructors::cohort_id),
                    ));
                let mut query = cohorts::table.into_boxed();
                query = match (&org_filter, q.organization_id) {
                    (None, _) => query,
                    (Some(ids), Some(_)) => {
                        query.filter(cohorts::organization_id.eq_any(ids.clone()))
                    }
                    (Some(ids), None) => {
                        query.filter(cohorts::organization_id.eq_any(ids.clone()).or(participant))
                    }
                };
                if let Some(from) = q.from {
                    query = query.filter(cohorts::ends_on.ge(from));
                }
                if let Some(to) = q.to {
                    query = query.filter(cohorts::starts_on.le(to));
                }
                if let Some(s) = status {
                    query = query.filter(cohorts::status.eq(s.as_str()));
                }
                if let Some(c) = q.course_id {
                    query = query.filter(cohorts::course_id.eq(c));
                }
                query
            };
            let total: i64 = build().count().get_result(conn)?;
            let found: Vec<CohortRow> = build()
                .order((cohorts::starts_on.desc(), cohorts::id.asc()))
                .limit(per_page)
                .offset((page - 1) * per_page)
                .select(CohortRow::as_select())
                .load(conn)?;
            let items = found
                .into_iter()
                .map(|c| cohort_view(conn, c, false))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(CohortPage {
                items,
                total,
                page,
                per_page,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page_of))
}

#[utoipa::path(get, path = "/api/v1/cohorts/{id}", responses((status = 200, body = CohortView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let view = state
        .db
        .run(move |conn| {
            let cohort = reach_cohort(conn, &actor, id, Access::Read)?;
            cohort_view(conn, cohort, true)
        })
        .await?;
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
    let (id, actor, body) = (id.into_inner(), user.actor(), body.into_inner());
    training::check_dates(&[("starts_on", body.starts_on), ("ends_on", body.ends_on)])?;
    let next_status = match body.status.as_deref() {
        Some(s) => Some(
            CohortStatus::parse(s)
                .ok_or_else(|| AppError::validation("status", "is not a cohort status"))?,
        ),
        None => None,
    };
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                reach_cohort(conn, &actor, id, Access::Manage)?;
                let cohort = rows::cohort_for_update(conn, id)?;
                let current = status_of(&cohort);
                require_active(&cohort)?;
                let mode = body.mode.clone().unwrap_or_else(|| cohort.mode.clone());
                let starts_on = body.starts_on.unwrap_or(cohort.starts_on);
                let ends_on = body.ends_on.unwrap_or(cohort.ends_on);
                let capacity = body.capacity.unwrap_or(cohort.capacity);
                let CohortText { title, location, campaign } = check_fields(
                    body.title.as_deref().unwrap_or(&cohort.title),
                    starts_on,
                    ends_on,
                    body.location.as_deref().unwrap_or(&cohort.location),
                    &mode,
                    capacity,
                    body.campaign.as_deref().or(cohort.campaign.as_deref()),
                )
                .map_err(AppError::Validation)?;
                let dates_changed = starts_on != cohort.starts_on || ends_on != cohort.ends_on;
                if dates_changed {
                    if current == CohortStatus::InProgress {
                        return Err(AppError::Conflict {
                            code: "cohort_started",
                            message: "The dates of a cohort that has started cannot change.".into(),
                        });
                    }
                    let outside: i64 = sessions::table
                        .filter(sessions::cohort_id.eq(id))
                        .count()
                        .get_result(conn)?;
                    if outside > 0 {
                        for s in rows::sessions_of(conn, id)? {
                            training::session_minutes(s.starts_at, s.ends_at, starts_on, ends_on).map_err(|_| AppError::Conflict {
                                code: "sessions_outside_dates",
                                message: "Some sessions fall outside the new dates; move or remove them first.".into(),
                            })?;
                        }
                    }
                }
                if capacity < cohort.capacity && rows::enrolled_count(conn, id)? > i64::from(capacity) {
                    return Err(AppError::Conflict {
                        code: "cohort_full",
                        message: "More people are enrolled than the new capacity.".into(),
                    });
                }
                let status = next_status.unwrap_or(current);
                check_transition(current, status)?;
                let row: CohortRow = diesel::update(cohorts::table.find(id))
                    .set((
                        cohorts::title.eq(&title),
                        cohorts::location.eq(&location),
                        cohorts::mode.eq(&mode),
                        cohorts::starts_on.eq(starts_on),
                        cohorts::ends_on.eq(ends_on),
                        cohorts::capacity.eq(capacity),
                        cohorts::campaign.eq(&campaign),
                        cohorts::status.eq(status.as_str()),
                        cohorts::updated_at.eq(Utc::now()),
                    ))
                    .returning(CohortRow::as_returning())
                    .get_result(conn)?;
                if status == CohortStatus::InProgress && current != CohortStatus::InProgress {
                    // rule 2: a tier-2 cohort cannot start without a certified instructor
                    let course = rows::course(conn, row.course_id)?;
                    require_certified_instructor(conn, &row, &course)?;
                }
                audit(conn, &actor, "cohort_updated", "cohort", id, json!({ "status": status.as_str(), "dates_changed": dates_changed }))?;
                cohort_view(conn, row, true)
            })
        })
        .await;
    let view = user.audited(result, "update_cohort").await?;
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
    let (id, actor, person) = (id.into_inner(), user.actor(), body.into_inner().user_id);
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let cohort = lock_for_change(conn, &actor, id)?;
                let who = person_facts(conn, person)?;
                // someone of the caller's scope, or a master trainer (who teaches anywhere); the
                // state agency draws its tier-1 instructors from everywhere
                let master_trainer: i64 = crate::db::schema::certificates::table
                    .filter(crate::db::schema::certificates::holder_id.eq(person))
                    .filter(crate::db::schema::certificates::tier.eq("master_trainer"))
                    .count()
                    .get_result(conn)?;
                let organizer = orgs::find(conn, cohort.organization_id)?;
                if master_trainer == 0 && !reaches_person(&actor, &organizer, person, &who) {
                    return Err(AppError::NotFound);
                }
                who.require_active()?;
                let course = rows::course(conn, cohort.course_id)?;
                let cover = rows::covering_master_certificates(conn, person, cohort.starts_on, cohort.ends_on)?.into_iter().next();
                if course.tier() == training::Tier::Propagandist && cover.is_none() {
                    return Err(instructor_not_certified(
                        "This person holds no master-trainer certificate valid on every day of the cohort (not revoked, not superseded, not expired before the end date).",
                    ));
                }
                let enrolled: i64 = enrollments::table
                    .filter(enrollments::cohort_id.eq(id))
                    .filter(enrollments::user_id.eq(person))
                    .filter(enrollments::status.ne("withdrawn"))
                    .count()
                    .get_result(conn)?;
                if enrolled > 0 {
                    return Err(AppError::conflict("This person is enrolled in the cohort and cannot also teach it."));
                }
                let teaching: i64 = cohort_instructors::table
                    .filter(cohort_instructors::cohort_id.eq(id))
                    .count()
                    .get_result(conn)?;
                if teaching >= training::MAX_INSTRUCTORS as i64 {
                    return Err(AppError::Conflict {
                        code: "too_many_instructors",
                        message: format!(
                            "A cohort has at most {} instructors.",
                            training::MAX_INSTRUCTORS
                        ),
                    });
                }
                let inserted = diesel::insert_into(cohort_instructors::table)
                    .values((cohort_instructors::cohort_id.eq(id), cohort_instructors::user_id.eq(person)))
                    .on_conflict_do_nothing()
                    .execute(conn)?;
                if inserted == 0 {
                    return Err(AppError::Conflict { code: "already_assigned", message: "This person already teaches the cohort.".into() });
                }
                audit(conn, &actor, "instructor_assigned", "cohort", id, json!({ "user_id": person, "master_certificate_id": cover }))?;
                Ok(InstructorView { user_id: person, full_name: who.full_name, master_certificate_id: cover })
            })
        })
        .await;
    let view = user.audited(result, "assign_instructor").await?;
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
    let ((id, person), actor) = (path.into_inner(), user.actor());
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                lock_for_change(conn, &actor, id)?;
                let removed = diesel::delete(
                    cohort_instructors::table
                        .filter(cohort_instructors::cohort_id.eq(id))
                        .filter(cohort_instructors::user_id.eq(person)),
                )
                .execute(conn)?;
                if removed == 0 {
                    return Err(AppError::NotFound);
                }
                audit(
                    conn,
                    &actor,
                    "instructor_removed",
                    "cohort",
                    id,
                    json!({ "user_id": person }),
                )?;
                Ok(())
            })
        })
        .await;
    user.audited(result, "remove_instructor").await?;
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
    let (id, actor, body) = (id.into_inner(), user.actor(), body.into_inner());
    let topic = crate::domain::text::check_text(
        "topic",
        &body.topic,
        crate::domain::text::limits::SESSION_TOPIC,
    )
    .map(|t| clean_text(&t))
    .map_err(|e| AppError::Validation(vec![e]))?;
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let cohort = lock_for_change(conn, &actor, id)?;
                let minutes = training::session_minutes(
                    body.starts_at,
                    body.ends_at,
                    cohort.starts_on,
                    cohort.ends_on,
                )?;
                let overlapping: i64 = sessions::table
                    .filter(sessions::cohort_id.eq(id))
                    .filter(sessions::starts_at.lt(body.ends_at))
                    .filter(sessions::ends_at.gt(body.starts_at))
                    .count()
                    .get_result(conn)?;
                if overlapping > 0 {
                    return Err(AppError::Conflict {
                        code: "session_overlap",
                        message: "Another session of this cohort overlaps this time.".into(),
                    });
                }
                let row: SessionRow = diesel::insert_into(sessions::table)
                    .values((
                        sessions::cohort_id.eq(id),
                        sessions::starts_at.eq(body.starts_at),
                        sessions::ends_at.eq(body.ends_at),
                        sessions::minutes.eq(minutes),
                        sessions::topic.eq(&topic),
                    ))
                    .returning(SessionRow::as_returning())
                    .get_result(conn)?;
                audit(
                    conn,
                    &actor,
                    "session_created",
                    "cohort",
                    id,
                    json!({ "session_id": row.id, "minutes": minutes }),
                )?;
                Ok(SessionView::from(row))
            })
        })
        .await;
    let view = user.audited(result, "create_session").await?;
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
                who.require_active()?;
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
