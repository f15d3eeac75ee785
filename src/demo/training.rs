//! The demo's training chain: courses of both tiers (one superseded), and cohorts in every
//! state — finished, running, open and planned — with sessions, attendance and scores.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::current_user::Actor;
use crate::certificates::Issuer;
use crate::db::schema::{
    attendance, cohort_instructors, cohorts, courses, enrollments, sessions, users,
};
use crate::db::training as rows;
use crate::domain::training::vietnam_time;
use crate::error::AppError;
use crate::privacy::DataKey;

struct DemoCourse {
    code: &'static str,
    title: &'static str,
    tier: &'static str,
    curriculum: &'static str,
    hours: i32,
    validity_months: i32,
}

const COURSES: &[DemoCourse] = &[
    DemoCourse {
        code: "GVN-BHXH-2024",
        title: "Bồi dưỡng giảng viên nguồn về chính sách bảo hiểm xã hội",
        tier: "master_trainer",
        curriculum: "Luật BHXH 2024",
        hours: 16,
        validity_months: 36,
    },
    DemoCourse {
        code: "TTV-BHXH-2014",
        title: "Bồi dưỡng tuyên truyền viên về bảo hiểm xã hội",
        tier: "propagandist",
        curriculum: "Luật BHXH 2014",
        hours: 8,
        validity_months: 24,
    },
    DemoCourse {
        code: "TTV-BHXH-2024",
        title: "Bồi dưỡng tuyên truyền viên về bảo hiểm xã hội",
        tier: "propagandist",
        curriculum: "Luật BHXH 2024",
        hours: 8,
        validity_months: 24,
    },
];

fn course_id(conn: &mut PgConnection, code: &str) -> Result<Uuid, AppError> {
    Ok(courses::table
        .filter(courses::code.eq(code))
        .select(courses::id)
        .first(conn)?)
}

fn user_id(conn: &mut PgConnection, username: &str) -> Result<Uuid, AppError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(conn)?)
}

pub fn seed_courses(conn: &mut PgConnection) -> Result<(), AppError> {
    for c in COURSES {
        diesel::insert_into(courses::table)
            .values((
                courses::code.eq(c.code),
                courses::title.eq(c.title),
                courses::tier.eq(c.tier),
                courses::curriculum_version.eq(c.curriculum),
                courses::required_hours.eq(c.hours),
                courses::min_attendance_percent.eq(80),
                courses::pass_score.eq(50),
                courses::certificate_validity_months.eq(c.validity_months),
            ))
            .on_conflict(courses::code)
            .do_nothing()
            .execute(conn)?;
    }
    let new = course_id(conn, "TTV-BHXH-2024")?;
    // the 2024 curriculum follows the Law on Social Insurance 2024, in force from 1 July 2025
    let superseded_on = chrono::NaiveDate::from_ymd_opt(2025, 7, 1)
        .ok_or_else(|| AppError::internal("the demo's supersession day"))?;
    diesel::update(courses::table.filter(courses::code.eq("TTV-BHXH-2014")))
        .set((
            courses::superseded_by_id.eq(new),
            courses::superseded_on.eq(superseded_on),
        ))
        .execute(conn)?;
    Ok(())
}

/// One demo cohort: who organises it, when, who teaches and learns, and how they did.
pub struct DemoCohort {
    pub title: &'static str,
    pub course: &'static str,
    pub organizer: &'static str,
    /// First day, counted from today.
    pub starts_in_days: i64,
    pub days: i64,
    pub location: &'static str,
    pub campaign: Option<&'static str>,
    pub status: &'static str,
    pub instructors: &'static [&'static str],
    /// Learner, score, and the sessions they attended (by index).
    pub learners: &'static [(&'static str, Option<f64>, &'static [usize])],
    /// Finalise after recording marks.
    pub finalize: bool,
}

/// Creates the cohort unless one with this title exists; returns its id and whether it is new.
pub fn seed_cohort(
    conn: &mut PgConnection,
    issuer: &Issuer,
    today: NaiveDate,
    d: &DemoCohort,
) -> Result<(Uuid, bool), AppError> {
    let organizer = crate::db::organizations::find_by_code(conn, d.organizer)?
        .ok_or_else(|| AppError::internal(format!("no organisation {}", d.organizer)))?;
    let existing: Option<Uuid> = cohorts::table
        .filter(cohorts::title.eq(d.title))
        .filter(cohorts::organization_id.eq(organizer.id))
        .select(cohorts::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let starts_on = today + Duration::days(d.starts_in_days);
    let ends_on = starts_on + Duration::days(d.days - 1);
    let course = course_id(conn, d.course)?;
    let campaign = match d.campaign {
        Some(name) => Some(campaign_id(conn, name, organizer.id, starts_on, ends_on)?),
        None => None,
    };
    let id: Uuid = diesel::insert_into(cohorts::table)
        .values((
            cohorts::course_id.eq(course),
            cohorts::organization_id.eq(organizer.id),
            cohorts::title.eq(d.title),
            cohorts::starts_on.eq(starts_on),
            cohorts::ends_on.eq(ends_on),
            cohorts::location.eq(d.location),
            cohorts::mode.eq("in_person"),
            cohorts::capacity.eq(40),
            cohorts::campaign_id.eq(campaign),
            cohorts::status.eq(if d.finalize { "in_progress" } else { d.status }),
        ))
        .returning(cohorts::id)
        .get_result(conn)?;
    for who in d.instructors {
        let person = user_id(conn, who)?;
        diesel::insert_into(cohort_instructors::table)
            .values((
                cohort_instructors::cohort_id.eq(id),
                cohort_instructors::user_id.eq(person),
            ))
            .execute(conn)?;
    }
    // a morning session of 4 hours on each day
    let tz = vietnam_time();
    let mut session_ids = Vec::new();
    for day in 0..d.days {
        let date = starts_on + Duration::days(day);
        let at = |hour: u32| {
            tz.from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap_or_default())
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| AppError::internal("demo session time"))
        };
        let session: Uuid = diesel::insert_into(sessions::table)
            .values((
                sessions::cohort_id.eq(id),
                sessions::starts_at.eq(at(8)?),
                sessions::ends_at.eq(at(12)?),
                sessions::minutes.eq(240),
                sessions::topic.eq(if day == 0 {
                    "Những điểm mới của Luật Bảo hiểm xã hội 2024"
                } else {
                    "Kỹ năng tuyên truyền, vận động người dân tham gia BHXH"
                }),
            ))
            .returning(sessions::id)
            .get_result(conn)?;
        session_ids.push(session);
    }
    for (who, score, attended) in d.learners {
        let person = user_id(conn, who)?;
        let enrollment: Uuid = diesel::insert_into(enrollments::table)
            .values((
                enrollments::cohort_id.eq(id),
                enrollments::user_id.eq(person),
                enrollments::score.eq(score),
            ))
            .returning(enrollments::id)
            .get_result(conn)?;
        // attendance is known for the sessions already held
        for (i, session) in session_ids.iter().enumerate() {
            let held = starts_on + Duration::days(i as i64) <= today;
            if held {
                diesel::insert_into(attendance::table)
                    .values((
                        attendance::session_id.eq(session),
                        attendance::enrollment_id.eq(enrollment),
                        attendance::present.eq(attended.contains(&i)),
                    ))
                    .execute(conn)?;
            }
        }
    }
    if d.finalize {
        let cohort = rows::cohort_for_update(conn, id)?;
        // finalised on its last day, as the organiser would have
        crate::service::certification::finalize_cohort(
            conn,
            issuer,
            &Actor::command_line(),
            cohort,
            ends_on,
        )?;
    }
    Ok((id, true))
}

pub const COHORTS: &[DemoCohort] = &[
    DemoCohort {
        title: "Lớp bồi dưỡng giảng viên nguồn khóa I",
        course: "GVN-BHXH-2024",
        organizer: "BNV",
        starts_in_days: -120,
        days: 4,
        location: "Hà Nội",
        campaign: None,
        status: "completed",
        instructors: &["dieuphoi.bnv"],
        learners: &[
            ("giang.nv", Some(92.0), &[0, 1, 2, 3]),
            ("thao.pt", Some(88.0), &[0, 1, 2, 3]),
            ("son.tt", Some(45.0), &[0, 1, 2]),
        ],
        finalize: true,
    },
    DemoCohort {
        title: "Lớp bồi dưỡng giảng viên nguồn khóa II",
        course: "GVN-BHXH-2024",
        organizer: "BNV",
        starts_in_days: -1,
        days: 3,
        location: "Hà Nội",
        campaign: None,
        status: "in_progress",
        instructors: &["dieuphoi.bnv"],
        learners: &[
            ("dieuphoi.dng", Some(80.0), &[0, 1]),
            ("nhansu.hcm", None, &[0]),
        ],
        finalize: false,
    },
    DemoCohort {
        title: "Lớp tuyên truyền viên phường Ba Đình",
        course: "TTV-BHXH-2024",
        organizer: "BHXH-HN",
        starts_in_days: -60,
        days: 2,
        location: "Hội trường UBND phường Ba Đình, Hà Nội",
        campaign: None,
        status: "completed",
        instructors: &["giang.nv"],
        learners: &[
            ("hang.nt", Some(86.0), &[0, 1]),
            ("tuan.lv", Some(78.0), &[0, 1]),
            ("ngoc.bt", Some(91.0), &[0, 1]),
        ],
        finalize: true,
    },
    DemoCohort {
        title: "Lớp tuyên truyền viên phường Bến Thành",
        course: "TTV-BHXH-2024",
        organizer: "BHXH-HCM",
        starts_in_days: -1,
        days: 3,
        location: "Nhà văn hóa phường Bến Thành, TP. Hồ Chí Minh",
        campaign: None,
        status: "in_progress",
        instructors: &["thao.pt"],
        learners: &[("khoa.dm", Some(70.0), &[0, 1]), ("yen.vh", None, &[1])],
        finalize: false,
    },
    DemoCohort {
        title: "Lớp tuyên truyền viên Tháng vận động BHXH toàn dân 2027",
        course: "TTV-BHXH-2024",
        organizer: "BHXH-DNG",
        starts_in_days: 160,
        days: 2,
        location: "Đà Nẵng",
        campaign: Some("Tháng vận động BHXH toàn dân 2027"),
        status: "planned",
        instructors: &[],
        learners: &[("son.tt", None, &[])],
        finalize: false,
    },
];

/// Records the PDF digest of every certificate that has none yet (after the seeding commits).
pub fn store_missing_digests(conn: &mut PgConnection, issuer: &Issuer) -> Result<(), AppError> {
    use crate::db::schema::certificates;
    let ids: Vec<Uuid> = certificates::table
        .filter(certificates::pdf_sha256.is_null())
        .select(certificates::id)
        .load(conn)?;
    crate::certificates::issuance::store_digests(conn, issuer, &ids);
    Ok(())
}

/// The organiser's campaign of this name, added (spanning the cohort's days) when missing.
fn campaign_id(
    conn: &mut PgConnection,
    name: &str,
    organizer: Uuid,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> Result<Uuid, AppError> {
    use crate::db::schema::campaigns;
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::name.eq(name),
            campaigns::organization_id.eq(organizer),
            campaigns::starts_on.eq(starts_on),
            campaigns::ends_on.eq(ends_on),
        ))
        .on_conflict((campaigns::organization_id, campaigns::name))
        .do_nothing()
        .execute(conn)?;
    Ok(campaigns::table
        .filter(campaigns::organization_id.eq(organizer))
        .filter(campaigns::name.eq(name))
        .select(campaigns::id)
        .first(conn)?)
}

pub fn seed(conn: &mut PgConnection, key: &DataKey, issuer: &Issuer) -> Result<(), AppError> {
    seed_courses(conn)?;
    let today = Utc::now().with_timezone(&vietnam_time()).date_naive();
    // the national May campaign of this year and the next, as `serve` makes sure of
    for year in [today.year(), today.year() + 1] {
        crate::service::campaigns::ensure_may_campaign(conn, year)?;
    }
    for c in COHORTS {
        let (id, created) = seed_cohort(conn, issuer, today, c)?;
        if created && c.organizer == "BHXH-HN" && c.finalize {
            corrections(conn, key, issuer, id, today)?;
        }
    }
    Ok(())
}

/// The demo's corrections: one certificate revoked, one reissued with a corrected name.
fn corrections(
    conn: &mut PgConnection,
    key: &DataKey,
    issuer: &Issuer,
    cohort_id: Uuid,
    today: NaiveDate,
) -> Result<(), AppError> {
    use crate::db::schema::certificates;
    let holder = |conn: &mut PgConnection, username: &str| -> Result<Uuid, AppError> {
        let person = user_id(conn, username)?;
        Ok(certificates::table
            .filter(certificates::cohort_id.eq(cohort_id))
            .filter(certificates::holder_id.eq(person))
            .select(certificates::id)
            .first(conn)?)
    };
    let actor = Actor::command_line();
    let ngoc = holder(conn, "ngoc.bt")?;
    crate::service::certificates::revoke_certificate(
        conn,
        &actor,
        ngoc,
        "Hồ sơ đăng ký không đúng đối tượng (demo)",
        crate::certificates::issuance::today(),
    )?;
    let tuan = holder(conn, "tuan.lv")?;
    let corrected = crate::domain::people::FullName::parse("Lê Văn Tuấn")
        .map_err(|e| AppError::Validation(vec![e]))?;
    crate::service::certificates::reissue_certificate(
        conn,
        key,
        issuer,
        &actor,
        tuan,
        Some(&corrected),
        None,
        today,
    )?;
    Ok(())
}
