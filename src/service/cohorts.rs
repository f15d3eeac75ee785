//! Cohorts: reaching one within the caller's scope, locking it for a change, and the rules that
//! hold for every change of a cohort (it is still open; tier 2 has a certified instructor).

use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::current_user::Actor;
use crate::db::training::{self as rows, CohortRow, CourseRow};
use crate::domain::training::{self, instructor_not_certified, CohortStatus};
use crate::error::AppError;

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

pub fn require_active(cohort: &CohortRow) -> Result<(), AppError> {
    if status_of(cohort).is_active() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            code: "cohort_closed",
            message: format!("The cohort is {}; it takes no more changes.", cohort.status),
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
            "A propagandist cohort needs at least one instructor whose master-trainer certificate is valid on every day of the cohort.",
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
            "No master-trainer certificate valid on every day of the cohort for: {}. Remove or replace them.",
            uncovered.join(", ")
        )));
    }
    Ok(instructors
        .into_iter()
        .filter_map(|(_, _, cover)| cover)
        .collect())
}
