//! Cohorts: scheduling them (create, find, change, start, cancel) and their sessions; and what
//! every change of a cohort needs — reaching it within the caller's scope, locking it, the rules
//! that hold for it (it is still open; tier 2 has a certified instructor). Staffing them is
//! [`super::staffing`], enrolling in them [`super::enrolment`].

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::{as_actor, audit, campaigns, refuse};
use crate::auth::current_user::Actor;
use crate::db::cohorts::{self as cohort_rows, CohortFilter, CohortUpdate, NewCohort};
use crate::db::organizations as orgs;
use crate::db::training::{self as rows, CohortRow, CourseRow};
use crate::db::views::cohorts::{cohort_view, CohortPage, CohortView, SessionView};
use crate::db::Db;
use crate::domain::labels;
use crate::domain::organizations::{clean_text, OrganizationKind};
use crate::domain::paging::paging;
use crate::domain::people::Role;
use crate::domain::training::{
    self, check_organizer, check_transition, instructor_not_certified, CohortStatus,
};
use crate::error::{AppError, ErrorCode, FieldError};

/// How much the caller needs: to see the cohort, or to change it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Manage,
}

/// Loads a cohort the caller may reach: 404 when outside their scope (and not a participant),
/// 403 when visible but not theirs to change.
pub fn reach_cohort(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    access: Access,
) -> Result<CohortRow, AppError> {
    let cohort = rows::cohort(conn, id)?;
    let visible = actor.scope.covers_organization(cohort.organization_id)
        || match actor.id {
            Some(me) => rows::is_participant(conn, cohort.id, me)?,
            None => false,
        };
    if !visible {
        return Err(AppError::NotFound);
    }
    if access == Access::Manage && !actor.coordinates(cohort.organization_id) {
        return Err(AppError::Forbidden);
    }
    Ok(cohort)
}

/// A cohort the caller manages, locked for the rest of the transaction, still taking changes.
pub fn lock_for_change(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<CohortRow, AppError> {
    reach_cohort(conn, actor, id, Access::Manage)?;
    let cohort = rows::cohort_for_update(conn, id)?;
    require_active(&cohort)?;
    Ok(cohort)
}

pub fn status_of(cohort: &CohortRow) -> CohortStatus {
    CohortStatus::parse(&cohort.status).unwrap_or(CohortStatus::Cancelled)
}

/// A status asked for by name that no cohort has.
const STATUS_UNKNOWN: &str = "Trạng thái phải là planned (dự kiến), \
    open (đang nhận học viên), in_progress (đang học), completed (đã kết thúc) \
    hoặc cancelled (đã hủy).";

pub fn require_active(cohort: &CohortRow) -> Result<(), AppError> {
    if status_of(cohort).is_active() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            code: ErrorCode::CohortClosed,
            message: format!(
                "Lớp đang ở trạng thái “{}”; không thể thay đổi thêm.",
                labels::cohort_status(&cohort.status)
            ),
        })
    }
}

/// Tier 2 needs at least one instructor whose master-trainer certificate covers the dates.
pub fn require_certified_instructor(
    conn: &mut PgConnection,
    cohort: &CohortRow,
    course: &CourseRow,
) -> Result<Vec<Uuid>, AppError> {
    if course.tier() != training::Tier::Propagandist {
        return Ok(Vec::new());
    }
    let instructors = rows::instructors_with_cover(conn, cohort)?;
    if instructors.is_empty() {
        return Err(instructor_not_certified(
            "Lớp bồi dưỡng tuyên truyền viên cần ít nhất một giảng viên có giấy chứng nhận \
             giảng viên nguồn còn hiệu lực trong suốt thời gian của lớp.",
        ));
    }
    // every instructor, not just one: each appears in the certificates' lineage
    let uncovered: Vec<&str> = instructors
        .iter()
        .filter(|(_, _, cover)| cover.is_none())
        .map(|(_, name, _)| name.as_str())
        .collect();
    if !uncovered.is_empty() {
        return Err(instructor_not_certified(format!(
            "Các giảng viên sau không có giấy chứng nhận giảng viên nguồn còn hiệu lực \
             trong suốt thời gian của lớp: {}. Hãy bỏ phân công hoặc thay người khác.",
            uncovered.join(", ")
        )));
    }
    Ok(instructors
        .into_iter()
        .filter_map(|(_, _, cover)| cover)
        .collect())
}

/// The checked text fields of a cohort: title, location, and the campaign named by its text
/// (the `campaign` field of earlier releases; `None` when empty).
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
        errors.push(FieldError::new(
            "ends_on",
            "Ngày kết thúc không được trước ngày bắt đầu.",
        ));
    }
    if (ends_on - starts_on).num_days() > 366 {
        errors.push(FieldError::new(
            "ends_on",
            "Một lớp kéo dài tối đa một năm.",
        ));
    }
    if !matches!(mode, "in_person" | "online") {
        errors.push(FieldError::new(
            "mode",
            "Hình thức phải là in_person (trực tiếp) hoặc online (trực tuyến).",
        ));
    }
    if mode == "in_person" && location.is_empty() && !errors.iter().any(|e| e.field == "location") {
        errors.push(FieldError::new(
            "location",
            "Lớp học trực tiếp phải có địa điểm.",
        ));
    }
    if !(1..=crate::domain::training::MAX_CAPACITY).contains(&capacity) {
        errors.push(FieldError::new(
            "capacity",
            format!(
                "Sĩ số tối đa phải từ 1 đến {}.",
                labels::number(crate::domain::training::MAX_CAPACITY as usize)
            ),
        ));
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

/// A new cohort as asked for, before any check.
#[derive(Debug, Clone)]
pub struct CohortInput {
    pub course_id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: String,
    pub mode: String,
    pub capacity: i32,
    /// The campaign the cohort belongs to (one of the organiser's or above it, overlapping its
    /// days).
    pub campaign_id: Option<Uuid>,
    /// A campaign by name, as earlier releases took it; `campaign_id` wins when both are given.
    pub campaign: Option<String>,
}

/// Which campaign a new or changed cohort of `organizer` over `from..=to` belongs to: the one
/// named by id, else by its text, each checked by [`campaigns::applicable_campaign`].
fn chosen_campaign(
    conn: &mut PgConnection,
    organizer: Uuid,
    by_id: Option<Uuid>,
    by_name: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<Uuid>, AppError> {
    Ok(match (by_id, by_name) {
        (Some(id), _) => Some(campaigns::applicable_campaign(conn, organizer, id, from, to)?.id),
        (None, Some(name)) => Some(campaigns::campaign_named(conn, organizer, name, from, to)?.id),
        (None, None) => None,
    })
}

/// Schedules a run of a course for an organisation the caller coordinates (rule 1: tier 1 by
/// the state agency, tier 2 by the implementing agency or a branch); never of a superseded
/// course.
pub async fn create_cohort(
    db: &Db,
    actor: &Actor,
    input: CohortInput,
) -> Result<CohortView, AppError> {
    if !(actor.has(Role::Admin) || actor.has(Role::Coordinator)) {
        return Err(refuse(db, actor, "create_cohort").await);
    }
    training::check_dates(&[
        ("starts_on", Some(input.starts_on)),
        ("ends_on", Some(input.ends_on)),
    ])?;
    let CohortText {
        title,
        location,
        campaign,
    } = check_fields(
        &input.title,
        input.starts_on,
        input.ends_on,
        &input.location,
        &input.mode,
        input.capacity,
        input.campaign.as_deref(),
    )
    .map_err(AppError::Validation)?;
    if !actor.scope.covers_organization(input.organization_id) {
        return Err(AppError::NotFound);
    }
    as_actor(db, actor, "create_cohort", move |conn, actor| {
        // a course id that names no course is a missing resource, as an organisation's is
        let course = rows::course(conn, input.course_id)
            .optional()?
            .ok_or(AppError::NotFound)?;
        let organizer = orgs::find(conn, input.organization_id)?;
        check_organizer(course.tier(), OrganizationKind::parse(&organizer.kind))?;
        if !actor.coordinates(organizer.id) {
            return Err(AppError::Forbidden);
        }
        if course.superseded_by_id.is_some() {
            return Err(AppError::Rule {
                code: ErrorCode::CourseSuperseded,
                message: "Khóa bồi dưỡng này đã được thay bằng phiên bản chương trình mới hơn; \
                              hãy xếp lớp theo khóa mới."
                    .into(),
            });
        }
        let campaign_id = chosen_campaign(
            conn,
            organizer.id,
            input.campaign_id,
            campaign.as_deref(),
            input.starts_on,
            input.ends_on,
        )?;
        conn.transaction(|conn| {
            let new = NewCohort {
                course_id: course.id,
                organization_id: organizer.id,
                title: &title,
                starts_on: input.starts_on,
                ends_on: input.ends_on,
                location: &location,
                mode: &input.mode,
                capacity: input.capacity,
                campaign_id,
            };
            let row = cohort_rows::insert(conn, &new)?;
            let details = json!({
                "course_id": course.id,
                "organization_id": organizer.id,
                "campaign_id": campaign_id,
            });
            audit(conn, actor, "cohort_created", "cohort", row.id, details)?;
            cohort_view(conn, row, true)
        })
    })
    .await
}

/// What a search for cohorts asks.
#[derive(Debug, Default, Clone)]
pub struct CohortSearch {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub organization_id: Option<Uuid>,
    pub status: Option<String>,
    pub course_id: Option<Uuid>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The cohorts the caller may see — organised within their scope, or (without an organisation
/// asked for) ones they teach or are enrolled in — latest first, a page of them.
pub async fn find_cohorts(db: &Db, actor: &Actor, q: CohortSearch) -> Result<CohortPage, AppError> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    training::check_dates(&[("from", q.from), ("to", q.to)])?;
    let status = match q.status.as_deref() {
        Some(s) => Some(
            CohortStatus::parse(s).ok_or_else(|| AppError::validation("status", STATUS_UNKNOWN))?,
        ),
        None => None,
    };
    let actor = actor.clone();
    db.run(move |conn| {
        let organizers = match (q.organization_id, actor.scope.organization_filter()) {
            (Some(org), _) if actor.scope.covers_organization(org) => {
                Some(orgs::subtree_ids(conn, org)?)
            }
            (Some(_), _) => return Err(AppError::NotFound),
            (None, f) => f,
        };
        let filter = CohortFilter {
            organizers,
            or_taken_part_by: match q.organization_id {
                None => Some(actor.id.unwrap_or_default()),
                Some(_) => None,
            },
            from: q.from,
            to: q.to,
            status,
            course_id: q.course_id,
        };
        let (total, found) = cohort_rows::search(conn, &filter, page, per_page)?;
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
    .await
}

/// One cohort the caller may see, with its instructors and sessions.
pub async fn cohort(db: &Db, actor: &Actor, id: Uuid) -> Result<CohortView, AppError> {
    let actor = actor.clone();
    db.run(move |conn| {
        let cohort = reach_cohort(conn, &actor, id, Access::Read)?;
        cohort_view(conn, cohort, true)
    })
    .await
}

/// What a change to a cohort says (`None`: as it is).
#[derive(Debug, Default, Clone)]
pub struct CohortChanges {
    pub title: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub location: Option<String>,
    pub mode: Option<String>,
    pub capacity: Option<i32>,
    /// `Some(None)`: no campaign any more.
    pub campaign_id: Option<Option<Uuid>>,
    /// A campaign by name, as earlier releases took it (empty: none).
    pub campaign: Option<String>,
    pub status: Option<String>,
}

/// Changes a cohort still taking changes, or moves it along its statuses: its dates only before
/// it starts and around its sessions, its capacity not below those enrolled, and (rule 2) a
/// tier-2 cohort starts only with a certified instructor.
pub async fn update_cohort(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    body: CohortChanges,
) -> Result<CohortView, AppError> {
    training::check_dates(&[("starts_on", body.starts_on), ("ends_on", body.ends_on)])?;
    let next_status = match body.status.as_deref() {
        Some(s) => Some(
            CohortStatus::parse(s).ok_or_else(|| AppError::validation("status", STATUS_UNKNOWN))?,
        ),
        None => None,
    };
    as_actor(db, actor, "update_cohort", move |conn, actor| {
        conn.transaction(|conn| {
            let cohort = lock_for_change(conn, actor, id)?;
            let current = status_of(&cohort);
            let mode = body.mode.clone().unwrap_or_else(|| cohort.mode.clone());
            let starts_on = body.starts_on.unwrap_or(cohort.starts_on);
            let ends_on = body.ends_on.unwrap_or(cohort.ends_on);
            let capacity = body.capacity.unwrap_or(cohort.capacity);
            let CohortText {
                title,
                location,
                campaign,
            } = check_fields(
                body.title.as_deref().unwrap_or(&cohort.title),
                starts_on,
                ends_on,
                body.location.as_deref().unwrap_or(&cohort.location),
                &mode,
                capacity,
                body.campaign.as_deref(),
            )
            .map_err(AppError::Validation)?;
            // the campaign asked for, else the one it has (its days must still meet the cohort's)
            let campaign_id = match (body.campaign_id, &body.campaign) {
                (Some(id), _) => {
                    chosen_campaign(conn, cohort.organization_id, id, None, starts_on, ends_on)?
                }
                (None, Some(_)) => chosen_campaign(
                    conn,
                    cohort.organization_id,
                    None,
                    campaign.as_deref(),
                    starts_on,
                    ends_on,
                )?,
                (None, None) if starts_on != cohort.starts_on || ends_on != cohort.ends_on => {
                    chosen_campaign(
                        conn,
                        cohort.organization_id,
                        cohort.campaign_id,
                        None,
                        starts_on,
                        ends_on,
                    )?
                }
                (None, None) => cohort.campaign_id,
            };
            let dates_changed = starts_on != cohort.starts_on || ends_on != cohort.ends_on;
            if dates_changed {
                if current == CohortStatus::InProgress {
                    return Err(AppError::Conflict {
                        code: ErrorCode::CohortStarted,
                        message: "Không thể đổi ngày của lớp đã bắt đầu.".into(),
                    });
                }
                for s in rows::sessions_of(conn, id)? {
                    training::session_minutes(s.starts_at, s.ends_at, starts_on, ends_on).map_err(
                        |_| AppError::Conflict {
                            code: ErrorCode::SessionsOutsideDates,
                            message: "Một số buổi học nằm ngoài thời gian mới của lớp; \
                                          hãy dời hoặc xóa các buổi đó trước."
                                .into(),
                        },
                    )?;
                }
            }
            if capacity < cohort.capacity && rows::enrolled_count(conn, id)? > i64::from(capacity) {
                return Err(AppError::Conflict {
                    code: ErrorCode::CohortFull,
                    message: "Số học viên đã ghi danh nhiều hơn sĩ số tối đa mới.".into(),
                });
            }
            let status = next_status.unwrap_or(current);
            check_transition(current, status)?;
            let change = CohortUpdate {
                title: &title,
                location: &location,
                mode: &mode,
                starts_on,
                ends_on,
                capacity,
                campaign_id,
                status,
            };
            let row = cohort_rows::update(conn, id, &change)?;
            if status == CohortStatus::InProgress && current != CohortStatus::InProgress {
                // rule 2: a tier-2 cohort cannot start without a certified instructor
                let course = rows::course(conn, row.course_id)?;
                require_certified_instructor(conn, &row, &course)?;
            }
            let details = json!({ "status": status.as_str(), "dates_changed": dates_changed });
            audit(conn, actor, "cohort_updated", "cohort", id, details)?;
            cohort_view(conn, row, true)
        })
    })
    .await
}

/// Adds a teaching session within the cohort's dates, overlapping none of its others.
pub async fn add_session(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    topic: &str,
) -> Result<SessionView, AppError> {
    let topic =
        crate::domain::text::check_text("topic", topic, crate::domain::text::limits::SESSION_TOPIC)
            .map(|t| clean_text(&t))
            .map_err(|e| AppError::Validation(vec![e]))?;
    as_actor(db, actor, "create_session", move |conn, actor| {
        conn.transaction(|conn| {
            let cohort = lock_for_change(conn, actor, id)?;
            let minutes =
                training::session_minutes(starts_at, ends_at, cohort.starts_on, cohort.ends_on)?;
            if cohort_rows::overlapping_sessions(conn, id, starts_at, ends_at)? > 0 {
                return Err(AppError::Conflict {
                    code: ErrorCode::SessionOverlap,
                    message: "Thời gian này trùng với một buổi học khác của lớp.".into(),
                });
            }
            let row = cohort_rows::insert_session(conn, id, starts_at, ends_at, minutes, &topic)?;
            let details = json!({ "session_id": row.id, "minutes": minutes });
            audit(conn, actor, "session_created", "cohort", id, details)?;
            Ok(SessionView::from(row))
        })
    })
    .await
}
