//! A person's training record: every enrolment, its marks, and the certificate it earned.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::visible_user;
use crate::auth::current_user::Actor;
use crate::db::Db;
use crate::error::AppError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordCohort {
    pub id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordCourse {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub tier: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordCertificate {
    pub id: Uuid,
    pub serial: String,
    /// valid, expired, revoked or superseded
    pub status: String,
    pub valid_until: NaiveDate,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Record {
    pub enrollment_id: Uuid,
    pub cohort: RecordCohort,
    pub course: RecordCourse,
    pub status: String,
    pub attendance_percent: f64,
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RecordCertificate>,
}

/// An enrolment with its cohort (id, title, dates) and course (id, code, title, tier).
type RecordLine = (
    crate::db::training::EnrollmentRow,
    (Uuid, String, NaiveDate, NaiveDate),
    (Uuid, String, String, String),
);

/// A person's training record: every enrolment, its marks, and the certificate it earned.
pub async fn training_record(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    today: NaiveDate,
) -> Result<Vec<Record>, AppError> {
    let actor = actor.clone();
    use crate::db::schema::{certificates, cohorts, courses, enrollments};
    db.run(move |conn| {
        visible_user(conn, &actor, id)?;
        let found: Vec<RecordLine> = enrollments::table
            .inner_join(cohorts::table.inner_join(courses::table))
            .filter(enrollments::user_id.eq(id))
            .order(cohorts::starts_on.desc())
            .select((
                crate::db::training::EnrollmentRow::as_select(),
                (
                    cohorts::id,
                    cohorts::title,
                    cohorts::starts_on,
                    cohorts::ends_on,
                ),
                (courses::id, courses::code, courses::title, courses::tier),
            ))
            .load(conn)?;
        let mut out = Vec::with_capacity(found.len());
        for (e, (cid, ctitle, starts_on, ends_on), (course_id, code, title, tier)) in found {
            // the newest certificate of the enrolment (a correction supersedes the first)
            let cert: Option<(Uuid, String, String, NaiveDate)> = certificates::table
                .filter(certificates::enrollment_id.eq(e.id))
                .order(certificates::created_at.desc())
                .select((
                    certificates::id,
                    certificates::serial,
                    certificates::status,
                    certificates::valid_until,
                ))
                .first(conn)
                .optional()?;
            let attendance_percent = match e.attendance_percent {
                Some(p) => p,
                None => {
                    let (total, attended) = crate::db::training::attended_minutes(conn, cid)?;
                    crate::domain::training::attendance_percent(
                        total,
                        attended.get(&e.id).copied().unwrap_or(0),
                    )
                }
            };
            out.push(Record {
                enrollment_id: e.id,
                cohort: RecordCohort {
                    id: cid,
                    title: ctitle,
                    starts_on,
                    ends_on,
                },
                course: RecordCourse {
                    id: course_id,
                    code,
                    title,
                    tier,
                },
                status: e.status,
                attendance_percent,
                score: e.score,
                certificate: cert.map(|(id, serial, status, valid_until)| RecordCertificate {
                    status: if status == "valid" && valid_until < today {
                        "expired".into()
                    } else {
                        status
                    },
                    id,
                    serial,
                    valid_until,
                }),
            });
        }
        Ok(out)
    })
    .await
}
