//! "Dữ liệu của tôi" (everything held about the signed-in person, and who saw it) and, for
//! administrators, "Nhật ký truy cập" (the audit trail with its filters).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::labels;
use super::page::{render, render_with, Choice, Layout, PageError, PageUser};
use crate::domain::privacy::{CERTIFICATE_DOWNLOADED, NATIONAL_ID_REVEALED, PEOPLE_EXPORTED};
use crate::error::AppError;
use crate::service::privacy::{self as service, AuditSearch};
use crate::startup::AppState;

/// An audit action as people say it.
fn action_label(action: &str) -> &'static str {
    match action {
        NATIONAL_ID_REVEALED => "xem số CCCD đầy đủ",
        PEOPLE_EXPORTED => "xuất danh sách ra tệp",
        CERTIFICATE_DOWNLOADED => "tải giấy chứng nhận (PDF)",
        "login" => "đăng nhập",
        "logout" => "đăng xuất",
        "login_failed" => "đăng nhập không thành công",
        "password_changed" => "đổi mật khẩu",
        "refresh_token_reused" => "phiên đăng nhập bị dùng lại và đã bị chặn",
        "access_denied" => "bị từ chối truy cập",
        "user_created" => "tạo hồ sơ",
        "user_updated" => "sửa hồ sơ",
        "users_imported" => "nhập danh sách người từ tệp CSV",
        "user_retired" => "rút khỏi hệ thống",
        "national_id_conflict" => "nhập số CCCD trùng với người khác",
        "certificate_revoked" => "thu hồi giấy chứng nhận",
        "certificate_reissued" => "cấp lại giấy chứng nhận",
        "cohort_finalized" => "kết thúc lớp và cấp giấy chứng nhận",
        "course_created" => "tạo khóa bồi dưỡng",
        "cohort_created" => "tạo lớp",
        "cohort_updated" => "sửa thông tin lớp",
        "session_created" => "thêm buổi học",
        "instructor_assigned" => "phân công giảng viên",
        "instructor_removed" => "bỏ phân công giảng viên",
        "enrolled" => "ghi danh vào lớp",
        "withdrawn" => "rút khỏi lớp",
        "attendance_recorded" => "điểm danh",
        "score_recorded" => "ghi điểm",
        "organization_created" => "tạo đơn vị",
        "organization_updated" => "sửa thông tin đơn vị",
        "retention_purged" => "xóa dữ liệu hết thời hạn lưu giữ",
        "outreach_recorded" => "ghi nhận hoạt động tuyên truyền",
        "outreach_corrected" => "sửa hoạt động tuyên truyền",
        "outreach_rejected" => "từ chối hoạt động tuyên truyền",
        "outreach_imported" => "nhập hoạt động tuyên truyền từ tệp CSV",
        _ => "thao tác khác",
    }
}

/// What an event touched, in words: the certificate by its serial, the CCCD, a list and its
/// size; nothing for other events.
fn what_was_read(action: &str, details: Option<&serde_json::Value>) -> String {
    let field = |name: &str| details.and_then(|d| d.get(name));
    match action {
        NATIONAL_ID_REVEALED => "Số CCCD".into(),
        PEOPLE_EXPORTED => match field("rows").and_then(|r| r.as_u64()) {
            Some(rows) => format!(
                "Danh sách {} dòng",
                crate::domain::labels::number(usize::try_from(rows).unwrap_or(usize::MAX))
            ),
            None => "Danh sách".into(),
        },
        _ => field("serial")
            .and_then(|s| s.as_str())
            .map(|s| format!("Giấy chứng nhận số {s}"))
            .unwrap_or_default(),
    }
}

/// An instant as a person in Vietnam reads it: "01/06/2027 15:04".
fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::domain::training::vietnam_time())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn or_dash(value: Option<String>) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "—".into())
}

// ---------------------------------------------------------------------------------------------
// Dữ liệu của tôi

struct Field {
    label: &'static str,
    value: String,
}

struct EnrollmentLine {
    cohort: String,
    course: String,
    dates: String,
    attendance: String,
    score: String,
    result: &'static str,
    result_class: String,
}

struct SessionLine {
    cohort: String,
    when: String,
    topic: String,
    hours: String,
    present: &'static str,
}

struct CertificateLine {
    serial: String,
    verification_code: String,
    course: String,
    status: &'static str,
    status_class: String,
    issued_on: String,
    valid_until: String,
}

/// One outreach activity the person recorded.
struct OutreachLine {
    id: uuid::Uuid,
    held_on: String,
    form: String,
    audience: i32,
    status: &'static str,
    status_class: String,
    versions: i32,
}

struct ReadLine {
    at: String,
    who: String,
    what: &'static str,
    object: String,
}

#[derive(Template)]
#[template(path = "my_data.html")]
struct MyDataPage {
    layout: Layout,
    profile: Vec<Field>,
    enrollments: Vec<EnrollmentLine>,
    sessions: Vec<SessionLine>,
    certificates: Vec<CertificateLine>,
    outreach: Vec<OutreachLine>,
    reads: Vec<ReadLine>,
    trail_total: String,
    trail_limit: String,
}

#[get("/me/data")]
pub async fn my_data(
    state: web::Data<AppState>,
    page: PageUser,
) -> Result<HttpResponse, PageError> {
    let data = service::my_data(&state.db, &page.actor(), state.today()).await?;
    let p = data.profile;
    let roles: Vec<&str> = p.roles.iter().map(|r| labels::role(*r)).collect();
    let profile = vec![
        Field {
            label: "Họ và tên",
            value: p.full_name,
        },
        Field {
            label: "Tên đăng nhập",
            value: p.username,
        },
        Field {
            label: "Ngày sinh",
            value: or_dash(p.date_of_birth.map(date)),
        },
        Field {
            label: "Số CCCD",
            value: or_dash(p.national_id),
        },
        Field {
            label: "Thư điện tử",
            value: or_dash(p.email),
        },
        Field {
            label: "Đơn vị công tác",
            value: p.organization.name,
        },
        Field {
            label: "Đối tượng",
            value: labels::category(&p.category).to_string(),
        },
        Field {
            label: "Vai trò",
            value: or_dash(Some(roles.join(", "))),
        },
        Field {
            label: "Hồ sơ được tạo lúc",
            value: local_time(p.created_at),
        },
        Field {
            label: "Cập nhật lần cuối lúc",
            value: local_time(p.updated_at),
        },
    ];
    let mut sessions = Vec::new();
    let enrollments = data
        .enrollments
        .into_iter()
        .map(|e| {
            for s in &e.sessions {
                sessions.push(SessionLine {
                    cohort: e.cohort.title.clone(),
                    when: local_time(s.starts_at),
                    topic: s.topic.clone(),
                    hours: labels::decimal(f64::from(s.minutes) / 60.0),
                    present: match s.present {
                        Some(true) => "có mặt",
                        Some(false) => "vắng",
                        None => "chưa điểm danh",
                    },
                });
            }
            EnrollmentLine {
                dates: format!("{} – {}", date(e.cohort.starts_on), date(e.cohort.ends_on)),
                cohort: e.cohort.title,
                course: e.course.title,
                attendance: format!("{} %", labels::decimal(e.attendance_percent)),
                score: e.score.map(labels::decimal).unwrap_or_else(|| "—".into()),
                result: labels::enrollment_status(&e.status),
                result_class: e.status,
            }
        })
        .collect();
    let certificates = data
        .certificates
        .into_iter()
        .map(|c| CertificateLine {
            serial: c.serial,
            verification_code: c.verification_code,
            course: c.course_title,
            status: labels::certificate_status(&c.status),
            status_class: c.status,
            issued_on: date(c.issued_on),
            valid_until: date(c.valid_until),
        })
        .collect();
    let outreach = data
        .outreach
        .into_iter()
        .map(|e| OutreachLine {
            id: e.id,
            held_on: date(e.held_on),
            form: crate::domain::outreach::OutreachForm::label_of(&e.form),
            audience: e.audience,
            status: crate::domain::outreach::OutreachStatus::parse(&e.status)
                .map_or("", |s| s.label()),
            status_class: e.status,
            versions: e.version,
        })
        .collect();
    let reads = data
        .audit
        .items
        .into_iter()
        .filter(|e| e.read && e.about_me)
        .map(|e| ReadLine {
            at: local_time(e.at),
            who: e
                .actor
                .map(|a| a.full_name)
                .unwrap_or_else(|| "Hệ thống".into()),
            what: action_label(&e.action),
            object: what_was_read(&e.action, e.details.as_ref()),
        })
        .collect();
    render(&MyDataPage {
        layout: page.layout(),
        profile,
        enrollments,
        sessions,
        certificates,
        outreach,
        reads,
        trail_total: crate::domain::labels::number(usize::try_from(data.audit.total).unwrap_or(0)),
        trail_limit: crate::domain::labels::number(usize::try_from(data.audit.limit).unwrap_or(0)),
    })
}

// ---------------------------------------------------------------------------------------------
// Nhật ký truy cập

/// The filters as the form sends them: blank fields are no filter.
#[derive(Deserialize, Default, Clone)]
pub struct AuditFilters {
    pub subject_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
}

fn filled(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A person's id typed in a filter: blank is no filter; anything else must be an id.
fn filter_id(field: &'static str, value: &Option<String>) -> Result<Option<Uuid>, AppError> {
    match filled(value) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            AppError::validation(
                field,
                "Mã người phải là một mã định danh (UUID), ví dụ lấy từ trang Nhân sự.",
            )
        }),
    }
}

impl AuditFilters {
    fn search(&self, per_page: i64) -> Result<AuditSearch, AppError> {
        Ok(AuditSearch {
            subject_id: filter_id("subject_id", &self.subject_id)?,
            actor_id: filter_id("actor_id", &self.actor_id)?,
            action: filled(&self.action),
            from: filled(&self.from),
            to: filled(&self.to),
            page: Some(self.page.unwrap_or(1)),
            per_page: Some(per_page),
        })
    }

    /// The query string of these filters, for paging.
    fn query_string(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (name, value) in [
            ("subject_id", &self.subject_id),
            ("actor_id", &self.actor_id),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = filled(value) {
                pairs.push((name, v));
            }
        }
        pairs.push(("page", page.to_string()));
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

struct AuditLine {
    at: String,
    actor: String,
    action: &'static str,
    read: bool,
    subject: String,
    object: String,
    address: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTrailPage {
    layout: Layout,
    subject_id: String,
    actor_id: String,
    from: String,
    to: String,
    actions: Vec<Choice>,
    lines: Vec<AuditLine>,
    total: String,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    error: Option<String>,
}

/// Events on one page of the trail.
const PER_PAGE: i64 = 50;

/// The actions the form offers (any other is still accepted in the address).
const OFFERED_ACTIONS: [&str; 9] = [
    NATIONAL_ID_REVEALED,
    PEOPLE_EXPORTED,
    CERTIFICATE_DOWNLOADED,
    "login",
    "login_failed",
    "access_denied",
    "user_created",
    "user_updated",
    "user_retired",
];

#[get("/audit")]
pub async fn trail(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<AuditFilters>,
) -> Result<HttpResponse, PageError> {
    let filters = query.into_inner();
    let found = match filters.search(PER_PAGE) {
        Ok(search) => service::audit_trail(&state.db, &page.actor(), search).await,
        // a mistyped id: whether the caller may see the trail at all is said first
        Err(e) => {
            service::may_read_trail(&state.db, &page.actor()).await?;
            Err(e)
        }
    };
    // a bad filter shows the form again with its message; a refusal is a refusal
    let (found, status, error) = match found {
        Ok(found) => (Some(found), StatusCode::OK, None),
        Err(AppError::Validation(errors)) => {
            let message: Vec<String> = errors.into_iter().map(|f| f.message).collect();
            (None, StatusCode::BAD_REQUEST, Some(message.join(" ")))
        }
        Err(e) => return Err(e.into()),
    };
    let chosen = filled(&filters.action);
    let mut actions = vec![Choice {
        value: String::new(),
        label: "Tất cả".into(),
        selected: chosen.is_none(),
    }];
    actions.extend(OFFERED_ACTIONS.iter().map(|a| Choice {
        value: (*a).into(),
        label: action_label(a).into(),
        selected: chosen.as_deref() == Some(*a),
    }));
    let (lines, total, current, pages) = match found {
        Some(found) => {
            let pages = ((found.total + PER_PAGE - 1) / PER_PAGE).max(1);
            let lines = found
                .items
                .into_iter()
                .map(|e| AuditLine {
                    at: local_time(e.at),
                    actor: e
                        .actor
                        .map(|a| a.full_name)
                        .unwrap_or_else(|| "Hệ thống".into()),
                    read: crate::domain::privacy::READ_ACTIONS.contains(&e.action.as_str()),
                    action: action_label(&e.action),
                    subject: e.subject.map(|s| s.full_name).unwrap_or_default(),
                    object: what_was_read(&e.action, Some(&e.details)),
                    address: e.address.unwrap_or_default(),
                })
                .collect();
            (lines, found.total, found.page, pages)
        }
        None => (Vec::new(), 0, 1, 1),
    };
    let view = AuditTrailPage {
        layout: page.layout(),
        subject_id: filled(&filters.subject_id).unwrap_or_default(),
        actor_id: filled(&filters.actor_id).unwrap_or_default(),
        from: filled(&filters.from).unwrap_or_default(),
        to: filled(&filters.to).unwrap_or_default(),
        actions,
        lines,
        total: crate::domain::labels::number(usize::try_from(total).unwrap_or(0)),
        page: current,
        pages,
        prev_href: (current > 1).then(|| format!("/audit?{}", filters.query_string(current - 1))),
        next_href: (current < pages)
            .then(|| format!("/audit?{}", filters.query_string(current + 1))),
        error,
    };
    render_with(&view, status)
}
