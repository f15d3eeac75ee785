//! Finalising cohorts and issuing what they earn: completion of every enrolment (rule 3), and
//! (rule 4) one certificate per completed enrolment, in the same transaction.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::as_actor;
use super::cohorts::{reach_cohort, require_certified_instructor, status_of, Access};
use crate::auth::current_user::Actor;
use crate::certificates::issuance::{self, NewCertificate};
use crate::certificates::Issuer;
use crate::db::audit::AuditEvent;
use crate::db::training::{self as rows, CohortRow};
use crate::db::views::certificates::{views, CertificateView};
use crate::db::{cohorts as cohort_rows, enrollments, Db};
use crate::domain::labels;
use crate::domain::training::{self, CohortStatus, CompletionRule};
use crate::error::{AppError, ErrorCode};

/// What finalising answers; `issued` lists the certificates this call issued.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FinalizeReport {
    pub completed: i64,
    pub failed: i64,
    pub issued: Vec<CertificateView>,
    /// Certificates that earlier calls had already issued for this cohort.
    pub already_issued: i64,
}

/// What finalising did: counts, and the certificates this call issued.
#[derive(Debug)]
pub struct Finalized {
    pub completed: i64,
    pub failed: i64,
    pub issued: Vec<Uuid>,
    pub already_issued: i64,
}

/// Finalises a cohort whose row the caller has locked (`SELECT … FOR UPDATE`) inside a
/// transaction, on the day `today`. A completed cohort answers what it holds and changes nothing.
pub fn finalize_cohort(
    conn: &mut PgConnection,
    issuer: &Issuer,
    actor: &Actor,
    cohort: CohortRow,
    today: NaiveDate,
) -> Result<Finalized, AppError> {
    let status = status_of(&cohort);
    if status == CohortStatus::Completed {
        return Ok(Finalized {
            completed: enrollments::count_by_status(conn, cohort.id, "completed")?,
            failed: enrollments::count_by_status(conn, cohort.id, "failed")?,
            issued: Vec::new(),
            already_issued: cohort_rows::certificate_count(conn, cohort.id)?,
        });
    }
    if status == CohortStatus::InProgress && today < cohort.ends_on {
        return Err(AppError::Conflict {
            code: ErrorCode::CohortNotEnded,
            message: format!(
                "Lớp học đến hết ngày {}; chỉ kết thúc lớp được từ ngày học cuối cùng trở đi.",
                cohort.ends_on.format("%d/%m/%Y")
            ),
        });
    }
    if status != CohortStatus::InProgress {
        return Err(AppError::Conflict {
            code: ErrorCode::InvalidStatusTransition,
            message: format!(
                "Chỉ kết thúc được lớp đang học; lớp này đang ở trạng thái “{}”.",
                labels::cohort_status(&cohort.status)
            ),
        });
    }
    let course = rows::course(conn, cohort.course_id)?;
    let lineage = require_certified_instructor(conn, &cohort, &course)?;
    let (total_minutes, attended) = rows::attended_minutes(conn, cohort.id)?;
    if total_minutes == 0 {
        return Err(AppError::Rule {
            code: ErrorCode::NoSessions,
            message: "Lớp chưa có buổi học nào nên chưa xét được chuyên cần.".into(),
        });
    }
    let rule = CompletionRule {
        min_attendance_percent: course.min_attendance_percent,
        pass_score: course.pass_score,
    };
    let active = enrollments::active(conn, cohort.id)?;
    let (mut completed, mut failed) = (0i64, 0i64);
    let issued_on = crate::domain::certificates::issue_date(cohort.ends_on, today);
    let mut earned = Vec::new();
    let mut outcomes = Vec::with_capacity(active.len());
    for e in &active {
        let percent =
            training::attendance_percent(total_minutes, attended.get(&e.id).copied().unwrap_or(0));
        let status = if training::completes(rule, percent, e.score) {
            completed += 1;
            earned.push(NewCertificate {
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
        outcomes.push(enrollments::Outcome {
            enrollment_id: e.id,
            status,
            attendance_percent: percent,
        });
    }
    // one statement for every enrolment, however large the cohort
    enrollments::set_outcomes(conn, &outcomes)?;
    // rule 4: one certificate per completed enrolment, in this same transaction
    let issued_ids = issuance::issue(conn, issuer, &cohort, &course, &lineage, &earned)?;
    cohort_rows::mark_completed(conn, cohort.id)?;
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

/// Records the PDF digest of every certificate that has none: after a crash between an
/// issuance's commit and its digests (`cascade serve` runs it once at start). The number recorded.
pub async fn record_missing_digests(db: &Db, issuer: Issuer) -> Result<usize, AppError> {
    db.run(move |conn| issuance::record_missing_digests(conn, &issuer))
        .await
}

/// Rule 3 and 4: evaluates every enrolment of a cohort the caller manages in one transaction and
/// issues the certificates earned; idempotent, and safe when called twice at once (the cohort
/// row is locked, and a completed cohort changes nothing).
pub async fn finalize(
    db: &Db,
    actor: &Actor,
    issuer: Issuer,
    id: Uuid,
    today: NaiveDate,
) -> Result<FinalizeReport, AppError> {
    as_actor(db, actor, "finalize", move |conn, actor| {
        let done = conn.transaction(|conn| {
            reach_cohort(conn, actor, id, Access::Manage)?;
            let cohort = rows::cohort_for_update(conn, id)?;
            finalize_cohort(conn, &issuer, actor, cohort, today)
        })?;
        crate::metrics::certificates_issued(done.issued.len());
        // after commit, holding no lock: the PDFs' digests, rendered on every core, and the answer
        issuance::store_digests(conn, &issuer, &done.issued);
        Ok(FinalizeReport {
            completed: done.completed,
            failed: done.failed,
            issued: views(conn, &done.issued, today, &issuer.public_url)?,
            already_issued: done.already_issued,
        })
    })
    .await
}
