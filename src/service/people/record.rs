//! A person's training record: every enrolment, its marks, and the certificate it earned.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::current_user::Actor;
use crate::db::{reads, Db};
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

/// A person's training record: every enrolment, its marks, and the certificate it earned.
pub async fn training_record(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    today: NaiveDate,
) -> Result<Vec<Record>, AppError> {
    let mut conn = db.read().await?;
    {
        let conn = &mut conn;
        // anyone sees their own record; others only within their scope
        if actor.id != Some(id) {
            let organization = reads::organization_of(conn, id).await?;
            if !actor.scope.covers_person(id, organization) {
                return Err(AppError::NotFound);
            }
        }
        let lines = reads::record_lines(conn, id).await?;
        // attendance is recorded on the enrolment when the cohort is finalised; until then it
        // is counted from the sessions
        let open: Vec<Uuid> = lines
            .iter()
            .filter(|l| l.0.attendance_percent.is_none())
            .map(|l| l.0.id)
            .collect();
        let minutes = if open.is_empty() {
            Default::default()
        } else {
            reads::enrollment_minutes(conn, &open).await?
        };
        let mut out: Vec<Record> = Vec::new();
        for (e, (cid, ctitle, starts_on, ends_on), (course_id, code, title, tier), cert) in lines {
            // lines come newest certificate first: the first line of an enrolment is its record
            if out.last().is_some_and(|r| r.enrollment_id == e.id) {
                continue;
            }
            let attendance_percent = match e.attendance_percent {
                Some(p) => p,
                None => {
                    let (total, attended) = minutes.get(&e.id).copied().unwrap_or((0, 0));
                    crate::domain::training::attendance_percent(total, attended)
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
    }
}
