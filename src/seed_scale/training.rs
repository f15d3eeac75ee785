//! The classes of a seeding: cohorts of both tiers with their instructors, and the enrolments.

use diesel::prelude::*;
use indicatif::ProgressBar;

use super::copy::Rows;
use super::plan::{self, Plan};
use crate::copy_rows;
use crate::db::schema::{cohort_instructors, cohorts, enrollments};
use crate::error::AppError;

pub(super) fn write_cohorts(
    conn: &mut PgConnection,
    plan: &Plan,
    bar: &ProgressBar,
) -> Result<(), AppError> {
    let mut rows = Rows::new();
    let mut teachers = Rows::new();
    for c in &plan.cohorts {
        let course = &plan.courses[usize::from(c.course)];
        rows.uuid(c.id)
            .uuid(course.id)
            .uuid(plan.orgs[c.org].id)
            .text(&c.title)
            .date(c.starts_on)
            .date(c.ends_on)
            .text(&c.location)
            .text(if c.online { "online" } else { "in_person" })
            .plain(c.capacity)
            .opt_uuid(c.campaign_id)
            .text(c.status)
            .opt_instant(c.finalized_at)
            .end();
        for (person, _) in &c.instructors {
            teachers
                .uuid(c.id)
                .uuid(plan.people[*person].id)
                .instant(plan::at(c.starts_on - chrono::Duration::days(14), 9))
                .end();
        }
        if rows.is_full() {
            bar.inc(rows.count as u64);
            flush_cohorts(conn, &mut rows, &mut teachers)?;
        }
    }
    bar.inc(rows.count as u64);
    Ok(flush_cohorts(conn, &mut rows, &mut teachers)?)
}

fn flush_cohorts(conn: &mut PgConnection, rows: &mut Rows, teachers: &mut Rows) -> QueryResult<()> {
    copy_rows!(
        conn,
        cohorts::table,
        (
            cohorts::id,
            cohorts::course_id,
            cohorts::organization_id,
            cohorts::title,
            cohorts::starts_on,
            cohorts::ends_on,
            cohorts::location,
            cohorts::mode,
            cohorts::capacity,
            cohorts::campaign_id,
            cohorts::status,
            cohorts::finalized_at,
        ),
        rows
    );
    copy_rows!(
        conn,
        cohort_instructors::table,
        (
            cohort_instructors::cohort_id,
            cohort_instructors::user_id,
            cohort_instructors::assigned_at,
        ),
        teachers
    );
    Ok(())
}

pub(super) fn write_enrolments(
    conn: &mut PgConnection,
    plan: &Plan,
    bar: &ProgressBar,
) -> Result<(), AppError> {
    // in the order of their ids: the primary key's index then grows at one end instead of
    // taking each row at a random leaf (a quarter faster at 100 k people)
    let mut order: Vec<&plan::Enrolment> = plan.enrolments.iter().collect();
    order.sort_unstable_by_key(|e| e.id);
    let mut rows = Rows::new();
    for e in order {
        rows.uuid(e.id)
            .uuid(plan.cohorts[e.cohort as usize].id)
            .uuid(plan.people[e.person as usize].id)
            .text(e.status)
            .opt_plain(e.score)
            .opt_plain(e.attendance)
            .instant(e.enrolled_at)
            .instant(e.updated_at)
            .end();
        if rows.is_full() {
            bar.inc(rows.count as u64);
            flush_enrolments(conn, &mut rows)?;
        }
    }
    bar.inc(rows.count as u64);
    flush_enrolments(conn, &mut rows)
}

fn flush_enrolments(conn: &mut PgConnection, rows: &mut Rows) -> Result<(), AppError> {
    copy_rows!(
        conn,
        enrollments::table,
        (
            enrollments::id,
            enrollments::cohort_id,
            enrollments::user_id,
            enrollments::status,
            enrollments::score,
            enrollments::attendance_percent,
            enrollments::enrolled_at,
            enrollments::updated_at,
        ),
        rows
    );
    Ok(())
}
