//! Courses: what is taught, to which tier, under which curriculum version; adding one, and
//! replacing an older curriculum version by a newer one.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{as_actor, refuse};
use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::organizations as orgs;
use crate::db::training::{self as rows, CourseRow, NewCourse};
use crate::db::Db;
use crate::domain::organizations::{clean_text, OrganizationKind};
use crate::domain::people::Role;
use crate::domain::training::{may_create_course, Tier};
use crate::error::{AppError, FieldError};

#[derive(Serialize, utoipa::ToSchema)]
pub struct CourseList {
    pub items: Vec<CourseRow>,
}

/// A new course as asked for, before any check.
#[derive(Debug, Clone)]
pub struct CourseInput {
    pub code: String,
    pub title: String,
    pub tier: String,
    pub curriculum_version: String,
    pub required_hours: i32,
    pub min_attendance_percent: i32,
    pub pass_score: i32,
    pub certificate_validity_months: i32,
    /// The course (an older curriculum version of the same tier) this one replaces.
    pub supersedes_id: Option<Uuid>,
}

/// The checked code, title, tier and curriculum version.
fn check(body: &CourseInput) -> Result<(String, String, Tier, String), AppError> {
    let mut errors = Vec::new();
    let code = body.code.trim().to_uppercase();
    if !(2..=32).contains(&code.len())
        || !code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
    {
        errors.push(FieldError::new(
            "code",
            "Mã khóa bồi dưỡng dài từ 2 đến 32 ký tự, \
             chỉ gồm chữ cái không dấu, chữ số và các dấu “-”, “_”, “.”.",
        ));
    }
    // both are printed on certificates: no character the font cannot draw
    let printed = |field: &'static str, raw: &str, max: usize, errors: &mut Vec<FieldError>| {
        crate::domain::text::check_text(field, raw, max)
            .and_then(|t| {
                crate::domain::text::check_drawable(field, &t, crate::certificates::pdf::can_draw)
                    .map(|()| clean_text(&t))
            })
            .map_err(|e| errors.push(e))
            .unwrap_or_default()
    };
    let title = printed(
        "title",
        &body.title,
        crate::domain::text::limits::COURSE_TITLE,
        &mut errors,
    );
    let tier = Tier::parse(&body.tier);
    if tier.is_none() {
        errors.push(FieldError::new(
            "tier",
            "Đối tượng bồi dưỡng phải là master_trainer (giảng viên nguồn) \
             hoặc propagandist (tuyên truyền viên).",
        ));
    }
    let version = printed(
        "curriculum_version",
        &body.curriculum_version,
        crate::domain::text::limits::CURRICULUM_VERSION,
        &mut errors,
    );
    if !(1..=1000).contains(&body.required_hours) {
        errors.push(FieldError::new(
            "required_hours",
            "Số giờ học bắt buộc phải từ 1 đến 1.000.",
        ));
    }
    if !(0..=100).contains(&body.min_attendance_percent) {
        errors.push(FieldError::new(
            "min_attendance_percent",
            "Tỷ lệ thời gian dự học tối thiểu phải từ 0 đến 100%.",
        ));
    }
    if !(0..=100).contains(&body.pass_score) {
        errors.push(FieldError::new("pass_score", "Điểm đạt phải từ 0 đến 100."));
    }
    if !(1..=240).contains(&body.certificate_validity_months) {
        errors.push(FieldError::new(
            "certificate_validity_months",
            "Thời hạn của giấy chứng nhận phải từ 1 đến 240 tháng.",
        ));
    }
    match tier {
        Some(tier) if errors.is_empty() => Ok((code, title, tier, version)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Marks `old_id` as replaced by the new course `new`: a course of the same tier with another
/// curriculum version, not superseded yet.
fn supersede(
    conn: &mut PgConnection,
    old_id: Uuid,
    new: &CourseRow,
    today: NaiveDate,
) -> Result<(), AppError> {
    // locked, so that of two courses superseding it at once the second waits, then sees the
    // first one's mark and is refused
    let old = rows::course_for_update(conn, old_id)
        .optional()?
        .ok_or_else(|| {
            AppError::validation(
                "supersedes_id",
                "Không có khóa bồi dưỡng nào có mã định danh này.",
            )
        })?;
    if old.tier() != new.tier() || old.curriculum_version == new.curriculum_version {
        return Err(AppError::validation(
            "supersedes_id",
            "Khóa được thay thế phải cùng đối tượng bồi dưỡng \
             và thuộc một phiên bản chương trình khác.",
        ));
    }
    if old.superseded_by_id.is_some() {
        return Err(AppError::conflict(
            "Khóa bồi dưỡng này đã được thay thế bằng một khóa khác.",
        ));
    }
    rows::supersede_course(conn, old_id, new.id, today)?;
    Ok(())
}

/// Adds a course, perhaps replacing an older curriculum version (administrators; coordinators
/// of the organisation that teaches its tier).
pub async fn create_course(
    db: &Db,
    actor: &Actor,
    body: CourseInput,
    today: NaiveDate,
) -> Result<CourseRow, AppError> {
    if !(actor.has(Role::Admin) || actor.has(Role::Coordinator)) {
        return Err(refuse(db, actor, "create_course").await);
    }
    let (code, title, tier, version) = check(&body)?;
    as_actor(db, actor, "create_course", move |conn, actor| {
        let own_kind = OrganizationKind::parse(&orgs::find(conn, actor.organization_id)?.kind);
        let coordinator_of = own_kind.filter(|_| actor.has(Role::Coordinator));
        if !may_create_course(tier, actor.has(Role::Admin), coordinator_of) {
            return Err(AppError::Forbidden);
        }
        conn.transaction(|conn| {
            let new = NewCourse {
                code: &code,
                title: &title,
                tier,
                curriculum_version: &version,
                required_hours: body.required_hours,
                min_attendance_percent: body.min_attendance_percent,
                pass_score: body.pass_score,
                certificate_validity_months: body.certificate_validity_months,
            };
            let row = rows::insert_course(conn, &new)
                .map_err(|e| AppError::unique(e, &[], "Đã có khóa bồi dưỡng mang mã này."))?;
            if let Some(old_id) = body.supersedes_id {
                supersede(conn, old_id, &row, today)?;
            }
            AuditEvent::new(actor.id, "course_created", "course")
                .object(row.id)
                .from_address(&actor.address)
                .details(json!({ "code": row.code, "supersedes_id": body.supersedes_id }))
                .record(conn)?;
            Ok(row)
        })
    })
    .await
}

/// Every course, by tier then code (anyone signed in).
pub async fn courses(db: &Db) -> Result<CourseList, AppError> {
    let items = db.run(|conn| Ok(rows::courses(conn)?)).await?;
    Ok(CourseList { items })
}

/// One course (anyone signed in).
pub async fn course(db: &Db, id: Uuid) -> Result<CourseRow, AppError> {
    db.run(move |conn| Ok(rows::course(conn, id)?)).await
}
