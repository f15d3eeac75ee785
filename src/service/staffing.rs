//! Staffing cohorts: assigning instructors (rule 2: for tier 2, each holds a master-trainer
//! certificate valid on every day of the cohort) and taking them off.

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::cohorts::lock_for_change;
use super::enrolment::{person_facts, reaches_person, require_active_person};
use super::{as_actor, audit};
use crate::auth::current_user::Actor;
use crate::db::organizations as orgs;
use crate::db::training as rows;
use crate::db::views::cohorts::InstructorView;
use crate::db::{cohorts as cohort_rows, enrollments, Db};
use crate::domain::training::{self, instructor_not_certified};
use crate::error::{AppError, ErrorCode};

/// Assigns a person to teach a cohort the caller manages: someone of the caller's scope, or a
/// master trainer (who teaches anywhere); never someone enrolled in it; at most
/// [`training::MAX_INSTRUCTORS`].
pub async fn assign_instructor(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    person: Uuid,
) -> Result<InstructorView, AppError> {
    as_actor(db, actor, "assign_instructor", move |conn, actor| {
        conn.transaction(|conn| {
            let cohort = lock_for_change(conn, actor, id)?;
            let who = person_facts(conn, person)?;
            // someone of the caller's scope, or a master trainer (who teaches anywhere); the
            // state agency draws its tier-1 instructors from everywhere
            let master_trainer = rows::holds_master_certificate(conn, person)?;
            let organizer = orgs::find(conn, cohort.organization_id)?;
            if !master_trainer && !reaches_person(actor, &organizer, person, &who) {
                return Err(AppError::NotFound);
            }
            require_active_person(&who)?;
            let course = rows::course(conn, cohort.course_id)?;
            let cover =
                rows::covering_master_certificates(conn, person, cohort.starts_on, cohort.ends_on)?
                    .into_iter()
                    .next();
            if course.tier() == training::Tier::Propagandist && cover.is_none() {
                return Err(instructor_not_certified(
                    "Người này không có giấy chứng nhận giảng viên nguồn còn hiệu lực \
                         trong suốt thời gian của lớp (chưa bị thu hồi, chưa được thay thế, \
                         chưa hết hạn trước ngày kết thúc).",
                ));
            }
            if enrollments::holds_place(conn, id, person)? {
                return Err(AppError::conflict(
                    "Người này đang là học viên của lớp nên không thể đồng thời giảng dạy.",
                ));
            }
            if cohort_rows::instructor_count(conn, id)? >= training::MAX_INSTRUCTORS as i64 {
                return Err(AppError::Conflict {
                    code: ErrorCode::TooManyInstructors,
                    message: format!(
                        "Mỗi lớp có tối đa {} giảng viên.",
                        training::MAX_INSTRUCTORS
                    ),
                });
            }
            if !cohort_rows::add_instructor(conn, id, person)? {
                return Err(AppError::Conflict {
                    code: ErrorCode::AlreadyAssigned,
                    message: "Người này đã được phân công giảng dạy lớp này.".into(),
                });
            }
            let details = json!({ "user_id": person, "master_certificate_id": cover });
            audit(conn, actor, "instructor_assigned", "cohort", id, details)?;
            Ok(InstructorView {
                user_id: person,
                full_name: who.full_name,
                master_certificate_id: cover,
            })
        })
    })
    .await
}

/// Takes an instructor off a cohort the caller manages.
pub async fn remove_instructor(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    person: Uuid,
) -> Result<(), AppError> {
    as_actor(db, actor, "remove_instructor", move |conn, actor| {
        conn.transaction(|conn| {
            lock_for_change(conn, actor, id)?;
            if !cohort_rows::remove_instructor(conn, id, person)? {
                return Err(AppError::NotFound);
            }
            let details = json!({ "user_id": person });
            audit(conn, actor, "instructor_removed", "cohort", id, details)?;
            Ok(())
        })
    })
    .await
}
