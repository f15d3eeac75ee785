//! A cohort's page: what anyone in scope sees (instructors, sessions, enrolled people with their
//! attendance and score, certificates issued) and, for its coordinator, a form for each change —
//! an instructor, a session, an enrolment by name or CSV, attendance per session, scores, the
//! next status, finalising with a confirmation. Every form posts to the page's own path.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::labels;
use super::page::{choices, render_with, Choice, Layout, PageError, PageUser};
use super::upload::{read_form, Posted};
use crate::db::views::cohorts::CohortView;
use crate::domain::user_import::MAX_FILE_BYTES;
use crate::error::AppError;
use crate::service::certificates::{self as certificates, CertificateSearch, Viewing};
use crate::service::cohorts::{self as cohorts, CohortChanges};
use crate::service::enrolment::{self, Presence};
use crate::service::people::{self, PeopleSearch};
use crate::service::{campaigns, certification, staffing};
use crate::startup::AppState;

/// Vietnam's clock: sessions are typed and shown in local time.
fn vietnam() -> FixedOffset {
    crate::domain::training::vietnam_time()
}

fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&vietnam())
}

struct Candidate {
    id: Uuid,
    full_name: String,
    organization: String,
}

struct SessionLine {
    id: Uuid,
    when: String,
    hours: String,
    topic: String,
    /// Who was there (enrolment id → present), as recorded.
    marks: HashMap<Uuid, bool>,
}

impl SessionLine {
    fn present(&self, enrollment: &Uuid) -> bool {
        self.marks.get(enrollment).copied().unwrap_or(false)
    }
}

struct EnrolledLine {
    id: Uuid,
    full_name: String,
    organization: String,
    status: &'static str,
    status_class: String,
    active: bool,
    attendance: String,
    score: String,
}

struct IssuedLine {
    serial: String,
    holder: String,
    status: &'static str,
    status_class: String,
    id: Uuid,
}

#[derive(Template)]
#[template(path = "cohort.html")]
struct CohortPage {
    layout: Layout,
    cohort: CohortView,
    status: &'static str,
    tier: &'static str,
    dates: String,
    manages: bool,
    next_statuses: Vec<(&'static str, &'static str)>,
    /// The campaigns the cohort may belong to (for its coordinator while it takes changes).
    campaigns: Vec<Choice>,
    instructors: Vec<(Uuid, String, bool)>,
    sessions: Vec<SessionLine>,
    enrolled: Vec<EnrolledLine>,
    issued: Vec<IssuedLine>,
    instructor_q: String,
    instructor_candidates: Vec<Candidate>,
    q: String,
    enrol_candidates: Vec<Candidate>,
    notice: Option<String>,
    error: Option<String>,
    import_errors: Vec<(u64, String)>,
}

#[derive(Deserialize, Default)]
pub struct CohortQuery {
    /// Words of a name to enrol (without diacritics is fine).
    pub q: Option<String>,
    /// Words of a name to assign as instructor.
    pub instructor_q: Option<String>,
}

/// What a posted form did, shown on the page.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
    import_errors: Vec<(u64, String)>,
}

fn failed(e: &AppError) -> Outcome {
    let message = match e {
        AppError::Validation(details) => details
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.public_message(),
    };
    Outcome {
        error: Some((e.status_code(), message)),
        ..Outcome::default()
    }
}

/// Errors a person can do something about are shown on the page; the rest are the error page.
fn shown(e: &AppError) -> bool {
    !matches!(
        e,
        AppError::Internal(_) | AppError::Unavailable(_) | AppError::NotFound
    )
}

async fn candidates(
    state: &AppState,
    page: &PageUser,
    q: &str,
) -> Result<Vec<Candidate>, PageError> {
    if q.trim().is_empty() {
        return Ok(Vec::new());
    }
    let found = people::find_people(
        &state.db,
        &page.actor(),
        PeopleSearch {
            q: Some(q.to_string()),
            organization_id: None,
            page: Some(1),
            per_page: Some(20),
        },
    )
    .await?;
    Ok(found
        .items
        .into_iter()
        .map(|u| Candidate {
            id: u.id,
            full_name: u.full_name,
            organization: u.organization.name,
        })
        .collect())
}

/// The statuses a cohort may move to next, with the button's words.
fn next_statuses_of(status: &str) -> Vec<(&'static str, &'static str)> {
    match status {
        "planned" => vec![("open", "Mở nhận học viên"), ("cancelled", "Hủy lớp")],
        "open" => vec![("in_progress", "Bắt đầu lớp"), ("cancelled", "Hủy lớp")],
        "in_progress" => vec![("cancelled", "Hủy lớp")],
        _ => Vec::new(),
    }
}

async fn show(
    state: &AppState,
    page: &PageUser,
    id: Uuid,
    query: CohortQuery,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    let actor = page.actor();
    let cohort = cohorts::cohort(&state.db, &actor, id).await?;
    let manages = actor.coordinates(cohort.organization_id);
    let enrolled = enrolment::enrollments(&state.db, &actor, id).await?;
    let sheet = if manages {
        enrolment::attendance_sheet(&state.db, &actor, id).await?
    } else {
        Vec::new()
    };
    let viewing = Viewing {
        public_url: state.config.public_url.clone(),
        today: state.today(),
    };
    let issued = certificates::find_certificates(
        &state.db,
        &actor,
        CertificateSearch {
            cohort_id: Some(id),
            per_page: Some(100),
            ..Default::default()
        },
        viewing,
    )
    .await?;
    let (instructor_q, q) = (
        query.instructor_q.unwrap_or_default(),
        query.q.unwrap_or_default(),
    );
    let (instructor_candidates, enrol_candidates) = if manages {
        (
            candidates(state, page, &instructor_q).await?,
            candidates(state, page, &q).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let marks: HashMap<Uuid, HashMap<Uuid, bool>> = sheet
        .into_iter()
        .map(|s| {
            let m = s
                .items
                .into_iter()
                .filter_map(|l| l.present.map(|p| (l.enrollment_id, p)))
                .collect();
            (s.session_id, m)
        })
        .collect();
    let date = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let campaign_choices = if manages && !next_statuses_of(&cohort.status).is_empty() {
        let found = campaigns::applicable_campaigns(
            &state.db,
            &actor,
            cohort.organization_id,
            cohort.starts_on,
            cohort.ends_on,
        )
        .await?;
        let mut all = vec![(String::new(), "Không thuộc chiến dịch nào".to_string())];
        all.extend(found.items.into_iter().map(|c| {
            (
                c.id.to_string(),
                format!("{} — {}", c.name, c.organization.code),
            )
        }));
        choices(
            all,
            Some(
                cohort
                    .campaign_id
                    .map(|c| c.to_string())
                    .unwrap_or_default()
                    .as_str(),
            ),
        )
    } else {
        Vec::new()
    };
    let next_statuses = next_statuses_of(&cohort.status);
    let (status_code, error) = match outcome.error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let view = CohortPage {
        layout: page.layout(),
        status: labels::cohort_status(&cohort.status),
        tier: labels::tier(&cohort.tier),
        dates: format!("{} – {}", date(cohort.starts_on), date(cohort.ends_on)),
        manages,
        next_statuses,
        campaigns: campaign_choices,
        instructors: cohort
            .instructors
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|i| {
                (
                    i.user_id,
                    i.full_name.clone(),
                    i.master_certificate_id.is_some(),
                )
            })
            .collect(),
        sessions: cohort
            .sessions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|s| SessionLine {
                id: s.id,
                when: format!(
                    "{} {}–{}",
                    local(s.starts_at).format("%d/%m/%Y"),
                    local(s.starts_at).format("%H:%M"),
                    local(s.ends_at).format("%H:%M")
                ),
                hours: labels::decimal(s.hours),
                topic: s.topic.clone(),
                marks: marks.get(&s.id).cloned().unwrap_or_default(),
            })
            .collect(),
        enrolled: enrolled
            .items
            .into_iter()
            .map(|e| EnrolledLine {
                id: e.id,
                full_name: e.person.full_name,
                organization: e.person.organization.name,
                status: labels::enrollment_status(&e.status),
                active: e.status == "enrolled",
                status_class: e.status,
                attendance: format!("{} %", labels::decimal(e.attendance_percent)),
                score: e.score.map(labels::decimal).unwrap_or_default(),
            })
            .collect(),
        issued: issued
            .items
            .into_iter()
            .map(|c| IssuedLine {
                id: c.id,
                serial: c.serial,
                holder: c.holder.full_name,
                status: labels::certificate_status(&c.status),
                status_class: c.status,
            })
            .collect(),
        cohort,
        instructor_q,
        instructor_candidates,
        q,
        enrol_candidates,
        notice: outcome.notice,
        error,
        import_errors: outcome.import_errors,
    };
    render_with(&view, status_code)
}

#[get("/cohorts/{id}")]
pub async fn show_page(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
    query: web::Query<CohortQuery>,
) -> Result<HttpResponse, PageError> {
    show(
        &state,
        &page,
        id.into_inner(),
        query.into_inner(),
        Outcome::default(),
    )
    .await
}

fn uuid_field(posted: &Posted, name: &str) -> Result<Uuid, AppError> {
    posted
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::validation(name, "Thiếu hoặc sai mã đối tượng."))
}

/// A session's start and end from the form: a day and two times, in Vietnam's time.
fn session_times(posted: &Posted) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let day = posted
        .get("day")
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .ok_or_else(|| AppError::validation("day", "Nhập ngày học."))?;
    let time = |name: &str| {
        posted
            .get(name)
            .and_then(|t| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
            .ok_or_else(|| AppError::validation(name, "Nhập giờ theo dạng giờ:phút."))
    };
    let at = |t: NaiveTime| {
        vietnam()
            .from_local_datetime(&day.and_time(t))
            .single()
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| AppError::validation("day", "Thời điểm không hợp lệ."))
    };
    Ok((at(time("from")?)?, at(time("to")?)?))
}

/// Carries out one posted form; its notice, or the error to show.
async fn act(
    state: &AppState,
    page: &PageUser,
    id: Uuid,
    posted: Posted,
) -> Result<Outcome, AppError> {
    let actor = page.actor();
    let db = &state.db;
    if let Some(file) = posted.file {
        let report = enrolment::enroll_from_csv(db, &actor, id, file).await?;
        return Ok(if report.errors.is_empty() {
            Outcome {
                notice: Some(format!("Đã ghi danh {} người từ tệp.", report.enrolled)),
                ..Outcome::default()
            }
        } else {
            Outcome {
                import_errors: report
                    .errors
                    .into_iter()
                    .map(|e| (e.line, e.message))
                    .collect(),
                ..Outcome::default()
            }
        });
    }
    let notice = match posted.get("action").unwrap_or("") {
        "add_instructor" => {
            let person = uuid_field(&posted, "user_id")?;
            let v = staffing::assign_instructor(db, &actor, id, person).await?;
            format!("Đã phân công giảng viên {}.", v.full_name)
        }
        "remove_instructor" => {
            let person = uuid_field(&posted, "user_id")?;
            staffing::remove_instructor(db, &actor, id, person).await?;
            "Đã bỏ phân công giảng viên.".into()
        }
        "add_session" => {
            let (starts_at, ends_at) = session_times(&posted)?;
            let topic = posted.get("topic").unwrap_or("");
            cohorts::add_session(db, &actor, id, starts_at, ends_at, topic).await?;
            "Đã thêm buổi học.".into()
        }
        "enroll" => {
            let person = uuid_field(&posted, "user_id")?;
            let e = enrolment::enroll(db, &actor, id, person).await?;
            format!("Đã ghi danh {}.", e.person.full_name)
        }
        "withdraw" => {
            let enrollment = uuid_field(&posted, "enrollment_id")?;
            enrolment::withdraw(db, &actor, id, enrollment).await?;
            "Đã rút tên học viên khỏi lớp.".into()
        }
        "attendance" => {
            let session = uuid_field(&posted, "session_id")?;
            let present: HashSet<String> = posted.all("present").into_iter().collect();
            let marks: Vec<Presence> = posted
                .all("enrolled")
                .iter()
                .filter_map(|e| e.parse::<Uuid>().ok())
                .map(|enrollment_id| Presence {
                    enrollment_id,
                    present: present.contains(&enrollment_id.to_string()),
                })
                .collect();
            enrolment::record_attendance(db, &actor, session, marks).await?;
            "Đã lưu điểm danh.".into()
        }
        "scores" => {
            let mut saved = 0;
            for (name, value) in &posted.fields {
                let Some(enrollment) = name.strip_prefix("score-") else {
                    continue;
                };
                let value = value.trim().replace(',', ".");
                if value.is_empty() {
                    continue;
                }
                let enrollment: Uuid = enrollment
                    .parse()
                    .map_err(|_| AppError::validation("score", "Thiếu hoặc sai mã học viên."))?;
                let score: f64 = value
                    .parse()
                    .map_err(|_| AppError::validation("score", "Điểm là một số từ 0 đến 100."))?;
                enrolment::record_score(db, &actor, enrollment, score).await?;
                saved += 1;
            }
            format!("Đã lưu điểm của {saved} học viên.")
        }
        "status" => {
            let status = posted.get("status").unwrap_or("").to_string();
            let changes = CohortChanges {
                status: Some(status),
                ..CohortChanges::default()
            };
            let v = cohorts::update_cohort(db, &actor, id, changes).await?;
            format!(
                "Lớp chuyển sang trạng thái: {}.",
                labels::cohort_status(&v.status)
            )
        }
        "campaign" => {
            let campaign_id = match posted.get("campaign_id").map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(v.parse::<Uuid>().map_err(|_| {
                    AppError::validation("campaign_id", "Chọn một chiến dịch trong danh sách.")
                })?),
            };
            let changes = CohortChanges {
                campaign_id: Some(campaign_id),
                ..CohortChanges::default()
            };
            let v = cohorts::update_cohort(db, &actor, id, changes).await?;
            match v.campaign {
                Some(name) => format!("Lớp thuộc chiến dịch “{name}”."),
                None => "Lớp không thuộc chiến dịch nào.".into(),
            }
        }
        "finalize" => {
            if posted.get("confirm") != Some("yes") {
                return Err(AppError::validation(
                    "confirm",
                    "Hãy đánh dấu xác nhận trước khi kết thúc lớp.",
                ));
            }
            let done =
                certification::finalize(db, &actor, state.issuer(), id, state.today()).await?;
            format!(
                "Đã kết thúc lớp: {} hoàn thành, {} không đạt, {} giấy chứng nhận được cấp.",
                done.completed,
                done.failed,
                done.issued.len() as i64 + done.already_issued
            )
        }
        _ => return Err(AppError::validation("action", "Thao tác không hợp lệ.")),
    };
    Ok(Outcome {
        notice: Some(notice),
        ..Outcome::default()
    })
}

#[post("/cohorts/{id}")]
pub async fn post(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let posted = read_form(&req, payload, MAX_FILE_BYTES).await?;
    let outcome = match act(&state, &page, id, posted).await {
        Ok(outcome) => outcome,
        Err(e) if shown(&e) => failed(&e),
        Err(e) => return Err(e.into()),
    };
    show(&state, &page, id, CohortQuery::default(), outcome).await
}
