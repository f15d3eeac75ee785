//! Finalising cohorts and issuing what they earn: completion of every enrolment, and (rule 4)
//! one certificate per completed enrolment, in the same transaction.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;

pub mod issuance;
pub mod pdf;

use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::schema::{certificates, cohorts, enrollments};
use crate::db::training::{self as rows, CohortRow, EnrollmentRow};
use crate::domain::training::{self, CohortStatus, CompletionRule};
use crate::error::AppError;

/// What finalising did: counts, and the certificates this call issued.
#[derive(Debug)]
pub struct Finalized {
    pub completed: i64,
    pub failed: i64,
    pub issued: Vec<uuid::Uuid>,
    pub already_issued: i64,
}

/// What issuing needs besides the database: the signing key and the public address.
#[derive(Clone)]
pub struct Issuer {
    pub signing_key_seed: [u8; 32],
    pub public_url: String,
}

impl Issuer {
    /// Loads (or, on first use, generates) the signing key named by the configuration.
    pub fn from_config(config: &crate::Config) -> Result<Self, String> {
        let path = config
            .signing_key_file
            .clone()
            .unwrap_or_else(|| config.data_path("signing-key"));
        let key = crate::secrets::load_or_create(&path, 32)?;
        let mut signing_key_seed = [0u8; 32];
        signing_key_seed.copy_from_slice(&key[..32]);
        Ok(Issuer {
            signing_key_seed,
            public_url: config.public_url.clone(),
        })
    }
}

fn count_by_status(
    conn: &mut PgConnection,
    cohort_id: uuid::Uuid,
    status: &str,
) -> QueryResult<i64> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::status.eq(status))
        .count()
        .get_result(conn)
}

/// Finalises a cohort whose row the caller has locked (`SELECT … FOR UPDATE`) inside a
/// transaction, on the day `today`. A completed cohort answers what it holds and changes nothing.
pub fn finalize_cohort(
    conn: &mut PgConnection,
    issuer: &Issuer,
    actor: &Actor,
    cohort: CohortRow,
    today: chrono::NaiveDate,
) -> Result<Finalized, AppError> {
    let status = CohortStatus::parse(&cohort.status).unwrap_or(CohortStatus::Cancelled);
    if status == CohortStatus::Completed {
        return Ok(Finalized {
            completed: count_by_status(conn, cohort.id, "completed")?,
            failed: count_by_status(conn, cohort.id, "failed")?,
            issued: Vec::new(),
            already_issued: certificates::table
                .filter(certificates::cohort_id.eq(cohort.id))
                .count()
                .get_result(conn)?,
        });
    }
    if status == CohortStatus::InProgress && today < cohort.ends_on {
        return Err(AppError::Conflict {
            code: "cohort_not_ended",
            message: format!(
                "The cohort runs until {}; it is finalised on or after its last day.",
                cohort.ends_on.format("%d/%m/%Y")
            ),
        });
    }
    if status != CohortStatus::InProgress {
        return Err(AppError::Conflict {
            code: "invalid_status_transition",
            message: format!(
                "Only a cohort in progress is finalised; this one is {}.",
                cohort.status
            ),
        });
    }
    let course = rows::course(conn, cohort.course_id)?;
    let lineage = crate::service::cohorts::require_certified_instructor(conn, &cohort, &course)?;
    let (total_minutes, attended) = rows::attended_minutes(conn, cohort.id)?;
    if total_minutes == 0 {
        return Err(AppError::Rule {
            code: "no_sessions",
            message: "The cohort has no sessions, so attendance cannot be judged.".into(),
        });
    }
    let rule = CompletionRule {
        min_attendance_percent: course.min_attendance_percent,
        pass_score: course.pass_score,
    };
    let active: Vec<EnrollmentRow> = enrollments::table
        .filter(enrollments::cohort_id.eq(cohort.id))
        .filter(enrollments::status.eq("enrolled"))
        .select(EnrollmentRow::as_select())
        .load(conn)?;
    let (mut completed, mut failed) = (0i64, 0i64);
    let issued_on = crate::domain::certificates::issue_date(cohort.ends_on, today);
    let mut earned = Vec::new();
    for e in &active {
        let percent =
            training::attendance_percent(total_minutes, attended.get(&e.id).copied().unwrap_or(0));
        let outcome = if training::completes(rule, percent, e.score) {
            completed += 1;
            earned.push(issuance::NewCertificate {
                holder_id: e.user_id,
                enrollment_id: Some(e.id),
                holder_name: None,
                holder_birth_date: None,
                supersedes: None,
                valid_until: None,
                issued_on,
            });
            "completed"
        } else {
            failed += 1;
            "failed"
        };
        diesel::update(enrollments::table.find(e.id))
            .set((
                enrollments::status.eq(outcome),
                enrollments::attendance_percent.eq(percent),
                enrollments::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
    }
    // rule 4: one certificate per completed enrolment, in this same transaction
    let issued_ids = issuance::issue(conn, issuer, &cohort, &course, &lineage, &earned)?;
    diesel::update(cohorts::table.find(cohort.id))
        .set((
            cohorts::status.eq(CohortStatus::Completed.as_str()),
            cohorts::finalized_at.eq(Utc::now()),
            cohorts::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    AuditEvent::new(actor.id, "cohort_finalized", "cohort")
        .object(cohort.id)
        .from_address(&actor.address)
        .details(json!({ "completed": completed, "failed": failed, "issued": issued_ids.len() }))
        .record(conn)?;
    Ok(Finalized {
        completed,
        failed,
        issued: issued_ids,
        already_issued: 0,
    })
}
