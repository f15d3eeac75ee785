//! Cohorts: scheduling and changing them, searching them, their instructors and sessions, and
//! closing one when it is finalised.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{certificates, cohort_instructors, cohorts, enrollments, sessions};
use super::training::{CohortRow, SessionRow};
use crate::domain::training::CohortStatus;

/// A new cohort's columns, checked.
pub struct NewCohort<'a> {
    pub course_id: Uuid,
    pub organization_id: Uuid,
    pub title: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: &'a str,
    pub mode: &'a str,
    pub capacity: i32,
    pub campaign_id: Option<Uuid>,
}

pub fn insert(conn: &mut PgConnection, new: &NewCohort<'_>) -> QueryResult<CohortRow> {
    diesel::insert_into(cohorts::table)
        .values((
            cohorts::course_id.eq(new.course_id),
            cohorts::organization_id.eq(new.organization_id),
            cohorts::title.eq(new.title),
            cohorts::starts_on.eq(new.starts_on),
            cohorts::ends_on.eq(new.ends_on),
            cohorts::location.eq(new.location),
            cohorts::mode.eq(new.mode),
            cohorts::capacity.eq(new.capacity),
            cohorts::campaign_id.eq(new.campaign_id),
        ))
        .returning(CohortRow::as_returning())
        .get_result(conn)
}

/// Every column a change of a cohort writes, checked.
pub struct CohortUpdate<'a> {
    pub title: &'a str,
    pub location: &'a str,
    pub mode: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub capacity: i32,
    pub campaign_id: Option<Uuid>,
    pub status: CohortStatus,
}

pub fn update(conn: &mut PgConnection, id: Uuid, to: &CohortUpdate<'_>) -> QueryResult<CohortRow> {
    diesel::update(cohorts::table.find(id))
        .set((
            cohorts::title.eq(to.title),
            cohorts::location.eq(to.location),
            cohorts::mode.eq(to.mode),
            cohorts::starts_on.eq(to.starts_on),
            cohorts::ends_on.eq(to.ends_on),
            cohorts::capacity.eq(to.capacity),
            cohorts::campaign_id.eq(to.campaign_id),
            cohorts::status.eq(to.status.as_str()),
            cohorts::updated_at.eq(Utc::now()),
        ))
        .returning(CohortRow::as_returning())
        .get_result(conn)
}

/// Which cohorts a search asks for; `None` asks nothing of that column.
#[derive(Debug, Default, Clone)]
pub struct CohortFilter {
    /// Organised by one of these (`None`: by anyone).
    pub organizers: Option<Vec<Uuid>>,
    /// With `organizers`: also the cohorts this person teaches or is enrolled in, wherever.
    pub or_taken_part_by: Option<Uuid>,
    /// Still running on or after this day.
    pub from: Option<NaiveDate>,
    /// Started on or before this day.
    pub to: Option<NaiveDate>,
    pub status: Option<CohortStatus>,
    pub course_id: Option<Uuid>,
}

/// A page of the cohorts `filter` finds, latest start first, and how many it finds in all.
pub fn search(
    conn: &mut PgConnection,
    filter: &CohortFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<(i64, Vec<CohortRow>)> {
    let build = || {
        let mut query = cohorts::table.into_boxed();
        query = match (&filter.organizers, filter.or_taken_part_by) {
            (None, _) => query,
            (Some(ids), None) => query.filter(cohorts::organization_id.eq_any(ids.clone())),
            (Some(ids), Some(me)) => {
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
                query.filter(cohorts::organization_id.eq_any(ids.clone()).or(participant))
            }
        };
        if let Some(from) = filter.from {
            query = query.filter(cohorts::ends_on.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(cohorts::starts_on.le(to));
        }
        if let Some(s) = filter.status {
            query = query.filter(cohorts::status.eq(s.as_str()));
        }
        if let Some(c) = filter.course_id {
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
    Ok((total, found))
}

/// Does the person teach the cohort?
pub fn teaches(conn: &mut PgConnection, cohort_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let teaching: i64 = cohort_instructors::table
        .filter(cohort_instructors::cohort_id.eq(cohort_id))
        .filter(cohort_instructors::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(teaching > 0)
}

pub fn instructor_count(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<i64> {
    cohort_instructors::table
        .filter(cohort_instructors::cohort_id.eq(cohort_id))
        .count()
        .get_result(conn)
}

/// Assigns the person to teach the cohort; `false` when they already do.
pub fn add_instructor(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    user_id: Uuid,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(cohort_instructors::table)
        .values((
            cohort_instructors::cohort_id.eq(cohort_id),
            cohort_instructors::user_id.eq(user_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}

/// Takes the person off the cohort; `false` when they did not teach it.
pub fn remove_instructor(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    user_id: Uuid,
) -> QueryResult<bool> {
    let removed = diesel::delete(
        cohort_instructors::table
            .filter(cohort_instructors::cohort_id.eq(cohort_id))
            .filter(cohort_instructors::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// How many sessions of the cohort overlap `starts_at..ends_at`.
pub fn overlapping_sessions(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .filter(sessions::starts_at.lt(ends_at))
        .filter(sessions::ends_at.gt(starts_at))
        .count()
        .get_result(conn)
}

pub fn insert_session(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    minutes: i32,
    topic: &str,
) -> QueryResult<SessionRow> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::cohort_id.eq(cohort_id),
            sessions::starts_at.eq(starts_at),
            sessions::ends_at.eq(ends_at),
            sessions::minutes.eq(minutes),
            sessions::topic.eq(topic),
        ))
        .returning(SessionRow::as_returning())
        .get_result(conn)
}

/// How many certificates the cohort has issued.
pub fn certificate_count(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<i64> {
    certificates::table
        .filter(certificates::cohort_id.eq(cohort_id))
        .count()
        .get_result(conn)
}

/// Closes a finalised cohort: completed, now.
pub fn mark_completed(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(cohorts::table.find(id))
        .set((
            cohorts::status.eq(CohortStatus::Completed.as_str()),
            cohorts::finalized_at.eq(Utc::now()),
            cohorts::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}
