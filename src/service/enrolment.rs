//! Enrolment: enrolling people in a cohort and withdrawing them, who sees the enrolments, and
//! the marks a cohort records while it runs — attendance at its sessions and scores.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::cohorts::{lock_for_change, reach_cohort, Access};
use super::{as_actor, audit, audit_about};
use crate::auth::current_user::Actor;
use crate::db::organizations::{self as orgs, OrganizationRow};
use crate::db::training as rows;
use crate::db::users::PersonFacts;
use crate::db::views::enrollments::{
    enrollment_views, session_attendance, EnrollmentList, EnrollmentView, SessionAttendance,
};
use crate::db::{cohorts as cohort_rows, enrollments, Db};
use crate::domain::labels;
use crate::domain::organizations::OrganizationKind;
use crate::domain::people::Category;
use crate::domain::training::{check_eligibility, check_score, CohortStatus, MAX_CAPACITY};
use crate::domain::user_import::ImportError;
use crate::error::{AppError, ErrorCode, FieldError};

/// The person, or 404.
pub(super) fn person_facts(conn: &mut PgConnection, id: Uuid) -> Result<PersonFacts, AppError> {
    crate::db::users::facts(conn, id)?.ok_or(AppError::NotFound)
}

/// A deactivated person is neither enrolled nor assigned to teach.
pub(super) fn require_active_person(who: &PersonFacts) -> Result<(), AppError> {
    if who.active {
        Ok(())
    } else {
        Err(AppError::Rule {
            code: ErrorCode::InactivePerson,
            message: "Tài khoản của người này đã bị khóa.".into(),
        })
    }
}

/// People come from the caller's scope; the state agency draws its tier-1 learners and
/// instructors from every organisation.
pub(super) fn reaches_person(
    actor: &Actor,
    organizer: &OrganizationRow,
    person: Uuid,
    who: &PersonFacts,
) -> bool {
    OrganizationKind::parse(&organizer.kind) == Some(OrganizationKind::StateAgency)
        || actor.scope.covers_person(person, who.organization_id)
}

/// Enrols `person` in a cohort the caller has locked for change (every rule of [`enroll`]);
/// the enrolment's id.
fn enroll_locked(
    conn: &mut PgConnection,
    actor: &Actor,
    cohort: &crate::db::training::CohortRow,
    person: Uuid,
) -> Result<Uuid, AppError> {
    let id = cohort.id;
    let who = person_facts(conn, person)?;
    let organizer = orgs::find(conn, cohort.organization_id)?;
    if !reaches_person(actor, &organizer, person, &who) {
        return Err(AppError::NotFound);
    }
    require_active_person(&who)?;
    let course = rows::course(conn, cohort.course_id)?;
    let person_province = orgs::find(conn, who.organization_id)?.province_code;
    check_eligibility(
        course.tier(),
        Category::parse(&who.category),
        OrganizationKind::parse(&organizer.kind),
        organizer.province_code.as_deref(),
        person_province.as_deref(),
    )?;
    if cohort_rows::teaches(conn, id, person)? {
        return Err(AppError::conflict(
            "Người này đang giảng dạy lớp nên không thể đồng thời là học viên của lớp.",
        ));
    }
    let existing = enrollments::of_person(conn, id, person)?;
    if existing.as_ref().is_some_and(|e| e.status != "withdrawn") {
        return Err(AppError::Conflict {
            code: ErrorCode::AlreadyEnrolled,
            message: "Người này đã được ghi danh vào lớp.".into(),
        });
    }
    if rows::enrolled_count(conn, id)? >= i64::from(cohort.capacity) {
        return Err(AppError::Conflict {
            code: ErrorCode::CohortFull,
            message: "Lớp đã đủ sĩ số.".into(),
        });
    }
    let enrollment_id = match existing {
        // someone who withdrew comes back: the same row, enrolled again
        Some(e) => enrollments::set_status(conn, e.id, "enrolled")?,
        None => enrollments::insert(conn, id, person)?,
    };
    let details = json!({ "cohort_id": id, "user_id": person });
    audit_about(
        conn,
        actor,
        "enrolled",
        "enrollment",
        enrollment_id,
        person,
        details,
    )?;
    Ok(enrollment_id)
}

/// Enrols a person the caller may reach in a cohort they manage: active, eligible for its tier
/// (and a branch's province), not teaching it, while it has a free place. Someone who withdrew
/// comes back on the same enrolment.
pub async fn enroll(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    person: Uuid,
) -> Result<EnrollmentView, AppError> {
    as_actor(db, actor, "enroll", move |conn, actor| {
        conn.transaction(|conn| {
            // the lock makes the capacity check and the insert one step
            let cohort = lock_for_change(conn, actor, id)?;
            let enrollment_id = enroll_locked(conn, actor, &cohort, person)?;
            enrollment_views(conn, id, Some(enrollment_id))?
                .pop()
                .ok_or(AppError::NotFound)
        })
    })
    .await
}

/// Withdraws an active enrolment from a cohort the caller manages; the row stays, and the
/// person may enrol again.
pub async fn withdraw(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    enrollment_id: Uuid,
) -> Result<(), AppError> {
    as_actor(db, actor, "withdraw", move |conn, actor| {
        conn.transaction(|conn| {
            lock_for_change(conn, actor, id)?;
            let e = rows::enrollment(conn, enrollment_id)?;
            if e.cohort_id != id {
                return Err(AppError::NotFound);
            }
            if e.status != "enrolled" {
                return Err(AppError::conflict(format!(
                    "Học viên này đang ở trạng thái “{}”; chỉ rút được học viên đang học.",
                    labels::enrollment_status(&e.status)
                )));
            }
            enrollments::set_status(conn, enrollment_id, "withdrawn")?;
            let details = json!({ "cohort_id": id });
            audit_about(
                conn,
                actor,
                "withdrawn",
                "enrollment",
                enrollment_id,
                e.user_id,
                details,
            )?;
            Ok(())
        })
    })
    .await
}

/// The enrolments of a cohort the caller may see: all of them for staff of the organiser's
/// scope and its instructors; a trainee only their own.
pub async fn enrollments(db: &Db, actor: &Actor, id: Uuid) -> Result<EnrollmentList, AppError> {
    let actor = actor.clone();
    let items = db
        .run(move |conn| {
            let cohort = reach_cohort(conn, &actor, id, Access::Read)?;
            let all = enrollment_views(conn, cohort.id, None)?;
            // a trainee sees only their own line; staff of the organiser's scope and instructors see all
            let sees_all = actor.scope.covers_organization(cohort.organization_id)
                || actor
                    .id
                    .is_some_and(|me| matches!(cohort_rows::teaches(conn, id, me), Ok(true)));
            Ok(if sees_all {
                all
            } else {
                all.into_iter()
                    .filter(|e| Some(e.user_id) == actor.id)
                    .collect()
            })
        })
        .await?;
    Ok(EnrollmentList { items })
}

fn open_for_marks(status: &str) -> Result<(), AppError> {
    match CohortStatus::parse(status) {
        Some(CohortStatus::Open | CohortStatus::InProgress) => Ok(()),
        _ => Err(AppError::Conflict {
            code: ErrorCode::CohortClosed,
            message: format!(
                "Chỉ ghi điểm danh và điểm khi lớp đang nhận học viên hoặc đang học; \
                 lớp này đang ở trạng thái “{}”.",
                labels::cohort_status(status)
            ),
        }),
    }
}

/// One line of attendance: an enrolment, and whether its person was present.
#[derive(Debug, Clone, Copy)]
pub struct Presence {
    pub enrollment_id: Uuid,
    pub present: bool,
}

/// The most lines one session's attendance takes: a whole cohort at the largest capacity.
pub const MAX_ATTENDANCE_LINES: usize = MAX_CAPACITY as usize;

/// Records who was present at a session of a cohort the caller manages, while it is open or in
/// progress; all lines or none. One call takes the whole cohort (up to
/// [`MAX_ATTENDANCE_LINES`]), checked and written in a fixed number of statements.
pub async fn record_attendance(
    db: &Db,
    actor: &Actor,
    session_id: Uuid,
    marks: Vec<Presence>,
) -> Result<SessionAttendance, AppError> {
    if marks.len() > MAX_ATTENDANCE_LINES {
        return Err(AppError::validation(
            "body",
            format!(
                "Mỗi lần ghi tối đa {} dòng.",
                labels::number(MAX_ATTENDANCE_LINES)
            ),
        ));
    }
    as_actor(db, actor, "record_attendance", move |conn, actor| {
        conn.transaction(|conn| {
            let session = rows::session(conn, session_id)?;
            reach_cohort(conn, actor, session.cohort_id, Access::Manage)?;
            let cohort = rows::cohort_for_update(conn, session.cohort_id)?;
            open_for_marks(&cohort.status)?;
            let ids: Vec<Uuid> = marks.iter().map(|m| m.enrollment_id).collect();
            let known: HashMap<Uuid, String> = enrollments::statuses(conn, cohort.id, &ids)?
                .into_iter()
                .collect();
            let mut errors = Vec::new();
            let mut seen = HashSet::with_capacity(marks.len());
            for (i, m) in marks.iter().enumerate() {
                match known.get(&m.enrollment_id).map(String::as_str) {
                    None => errors.push(FieldError::new(
                        format!("[{i}].enrollment_id"),
                        "Mã ghi danh này không thuộc lớp.",
                    )),
                    Some("withdrawn") => errors.push(FieldError::new(
                        format!("[{i}].enrollment_id"),
                        "Học viên này đã rút khỏi lớp.",
                    )),
                    _ => {}
                }
                if !seen.insert(m.enrollment_id) {
                    errors.push(FieldError::new(
                        format!("[{i}].enrollment_id"),
                        "Học viên này được ghi hai lần trong danh sách.",
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            let lines: Vec<(Uuid, bool)> =
                marks.iter().map(|m| (m.enrollment_id, m.present)).collect();
            enrollments::record_attendance(conn, session_id, &lines)?;
            let details = json!({ "lines": marks.len() });
            audit(
                conn,
                actor,
                "attendance_recorded",
                "session",
                session_id,
                details,
            )?;
            session_attendance(conn, session_id, cohort.id)
        })
    })
    .await
}

/// Records an active enrolment's score, in a cohort the caller manages, while it is open or in
/// progress.
pub async fn record_score(
    db: &Db,
    actor: &Actor,
    enrollment_id: Uuid,
    score: f64,
) -> Result<EnrollmentView, AppError> {
    let score = check_score(score)?;
    as_actor(db, actor, "record_score", move |conn, actor| {
        conn.transaction(|conn| {
            // an enrolment never changes cohort, so its cohort id may be read before the lock
            let cohort_id = enrollments::cohort_of(conn, enrollment_id)?;
            reach_cohort(conn, actor, cohort_id, Access::Manage)?;
            // the cohort lock first, as withdrawing takes it: the enrolment read after it
            // sees any withdrawal that committed while this call waited
            let cohort = rows::cohort_for_update(conn, cohort_id)?;
            open_for_marks(&cohort.status)?;
            let e = rows::enrollment(conn, enrollment_id)?;
            if e.status != "enrolled" {
                return Err(AppError::conflict(format!(
                    "Học viên này đang ở trạng thái “{}”; chỉ chấm điểm cho học viên đang học.",
                    labels::enrollment_status(&e.status)
                )));
            }
            enrollments::set_score(conn, enrollment_id, score)?;
            let details = json!({ "score": score });
            audit_about(
                conn,
                actor,
                "score_recorded",
                "enrollment",
                enrollment_id,
                e.user_id,
                details,
            )?;
            enrollment_views(conn, cohort.id, Some(enrollment_id))?
                .pop()
                .ok_or(AppError::NotFound)
        })
    })
    .await
}

/// What enrolling from a file did: how many were enrolled, or every line that stopped it.
#[derive(Debug)]
pub struct EnrolmentImport {
    pub enrolled: usize,
    pub errors: Vec<ImportError>,
}

/// Enrols everyone a CSV file names (a `username` column) in a cohort the caller manages, all or
/// nothing: a file with any line that breaks a rule enrols nobody, and every such line is
/// reported with its number.
pub async fn enroll_from_csv(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    bytes: Vec<u8>,
) -> Result<EnrolmentImport, AppError> {
    let (lines, mut errors) = parse_username_list(&bytes);
    if !errors.is_empty() {
        return Ok(EnrolmentImport {
            enrolled: 0,
            errors,
        });
    }
    let mut report = as_actor(db, actor, "enroll", move |conn, actor| {
        let mut line_errors: Vec<ImportError> = Vec::new();
        let outcome = conn.transaction(|conn| {
            let cohort = lock_for_change(conn, actor, id)?;
            let mut enrolled = 0;
            for (line, username) in &lines {
                let person = crate::db::users::find_by_username(conn, username)?;
                let Some(person) = person else {
                    line_errors.push(ImportError::new(
                        *line,
                        format!("Không có ai có tên đăng nhập “{username}”."),
                    ));
                    continue;
                };
                // each line on a savepoint: a broken rule undoes that line only, and the
                // whole file is undone below if any line broke one
                match conn.transaction(|conn| enroll_locked(conn, actor, &cohort, person.id)) {
                    Ok(_) => enrolled += 1,
                    Err(AppError::NotFound) => line_errors.push(ImportError::new(
                        *line,
                        format!("Không có ai có tên đăng nhập “{username}” trong phạm vi của bạn."),
                    )),
                    Err(
                        e @ (AppError::Conflict { .. }
                        | AppError::Rule { .. }
                        | AppError::Validation(_)),
                    ) => line_errors.push(ImportError::new(
                        *line,
                        format!("“{username}”: {}", e.public_message()),
                    )),
                    Err(e) => return Err(e),
                }
            }
            if line_errors.is_empty() {
                Ok(enrolled)
            } else {
                // undo every line
                Err(AppError::Validation(Vec::new()))
            }
        });
        match outcome {
            Ok(enrolled) => Ok(EnrolmentImport {
                enrolled,
                errors: Vec::new(),
            }),
            Err(AppError::Validation(v)) if v.is_empty() && !line_errors.is_empty() => {
                Ok(EnrolmentImport {
                    enrolled: 0,
                    errors: std::mem::take(&mut line_errors),
                })
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    report.errors.append(&mut errors);
    Ok(report)
}

/// The usernames of an enrolment file: a header row with a `username` column, then one person
/// per line (other columns are ignored). Each with its line number.
fn parse_username_list(bytes: &[u8]) -> (Vec<(u64, String)>, Vec<ImportError>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let column = reader.headers().ok().and_then(|h| {
        h.iter()
            .position(|c| c.trim().eq_ignore_ascii_case("username"))
    });
    let Some(column) = column else {
        return (
            Vec::new(),
            vec![ImportError::new(1, "Dòng tiêu đề thiếu cột username.")],
        );
    };
    let (mut lines, mut errors) = (Vec::new(), Vec::new());
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 2;
        match record {
            Ok(r) => {
                let username = r.get(column).unwrap_or("").trim().to_lowercase();
                if username.is_empty() {
                    continue;
                }
                if let Err(e) = crate::domain::text::check_plain("username", &username, 64) {
                    errors.push(ImportError::new(line, e.message));
                } else if lines.len() >= crate::domain::user_import::MAX_ROWS {
                    errors.push(ImportError::new(
                        line,
                        format!(
                            "Mỗi tệp chỉ được có tối đa {} người.",
                            labels::number(crate::domain::user_import::MAX_ROWS)
                        ),
                    ));
                    break;
                } else {
                    lines.push((line, username));
                }
            }
            Err(_) => errors.push(ImportError::new(
                line,
                "Không đọc được dòng này (tệp có phải là CSV mã hóa UTF-8 không?).",
            )),
        }
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(ImportError::new(1, "Tệp không có người nào."));
    }
    (lines, errors)
}

/// Every session of a cohort the caller manages with who was there: the attendance sheet.
pub async fn attendance_sheet(
    db: &Db,
    actor: &Actor,
    id: Uuid,
) -> Result<Vec<SessionAttendance>, AppError> {
    as_actor(db, actor, "attendance_sheet", move |conn, actor| {
        let cohort = reach_cohort(conn, actor, id, Access::Manage)?;
        rows::sessions_of(conn, cohort.id)?
            .into_iter()
            .map(|s| session_attendance(conn, s.id, cohort.id))
            .collect()
    })
    .await
}
