//! The training chain: tiers, who may organise what (rule 1), the cohort status machine,
//! instructors' certificates (rule 2), eligibility, sessions, and completion (rule 3).

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use serde::{Deserialize, Serialize};

use super::labels;
use super::organizations::OrganizationKind;
use super::people::Category;
use crate::error::{AppError, ErrorCode, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Tier 1: master trainers, trained and certified by the state agency.
    MasterTrainer,
    /// Tier 2: propagandists, trained by the implementing agency and its branches.
    Propagandist,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::MasterTrainer => "master_trainer",
            Tier::Propagandist => "propagandist",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "master_trainer" => Some(Tier::MasterTrainer),
            "propagandist" => Some(Tier::Propagandist),
            _ => None,
        }
    }
}

/// The most instructors one cohort takes (each is a line of the certificate's lineage).
pub const MAX_INSTRUCTORS: usize = 4;

/// The largest capacity a cohort may have: also the most lines of one session's attendance.
pub const MAX_CAPACITY: i32 = 10_000;

/// Rule 1: only the state agency organises tier 1; only the implementing agency or a branch
/// organises tier 2.
pub fn check_organizer(tier: Tier, organizer: Option<OrganizationKind>) -> Result<(), AppError> {
    let ok = match tier {
        Tier::MasterTrainer => organizer == Some(OrganizationKind::StateAgency),
        Tier::Propagandist => matches!(
            organizer,
            Some(OrganizationKind::ImplementingAgency | OrganizationKind::Branch)
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Rule {
            code: ErrorCode::WrongTierOrganizer,
            message: match tier {
                Tier::MasterTrainer => {
                    "Chỉ cơ quan quản lý nhà nước mới được tổ chức lớp bồi dưỡng \
                    giảng viên nguồn (cấp 1)."
                        .into()
                }
                Tier::Propagandist => {
                    "Chỉ Bảo hiểm xã hội Việt Nam hoặc bảo hiểm xã hội cấp tỉnh mới \
                    được tổ chức lớp bồi dưỡng tuyên truyền viên (cấp 2)."
                        .into()
                }
            },
        })
    }
}

/// Who may create a course of a tier: an administrator, or a coordinator of the body that
/// organises that tier nationally.
pub fn may_create_course(
    tier: Tier,
    is_admin: bool,
    coordinator_of: Option<OrganizationKind>,
) -> bool {
    is_admin
        || matches!(
            (tier, coordinator_of),
            (Tier::MasterTrainer, Some(OrganizationKind::StateAgency))
                | (
                    Tier::Propagandist,
                    Some(OrganizationKind::ImplementingAgency)
                )
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CohortStatus {
    Planned,
    Open,
    InProgress,
    Completed,
    Cancelled,
}

impl CohortStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CohortStatus::Planned => "planned",
            CohortStatus::Open => "open",
            CohortStatus::InProgress => "in_progress",
            CohortStatus::Completed => "completed",
            CohortStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CohortStatus::Planned,
            CohortStatus::Open,
            CohortStatus::InProgress,
            CohortStatus::Completed,
            CohortStatus::Cancelled,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// `planned → open → in_progress → completed | cancelled`; completion happens only by
    /// finalising, and nothing leaves `completed` or `cancelled`.
    pub fn may_move_to(self, next: CohortStatus) -> bool {
        use CohortStatus::*;
        matches!(
            (self, next),
            (Planned, Open) | (Open, InProgress) | (Planned | Open | InProgress, Cancelled)
        )
    }

    /// Still taking changes to its people, sessions and marks.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            CohortStatus::Planned | CohortStatus::Open | CohortStatus::InProgress
        )
    }
}

pub fn check_transition(from: CohortStatus, to: CohortStatus) -> Result<(), AppError> {
    if from == to || from.may_move_to(to) {
        return Ok(());
    }
    let message = if to == CohortStatus::Completed {
        "Lớp chỉ chuyển sang trạng thái “đã kết thúc” bằng thao tác kết thúc lớp \
         (POST /cohorts/{id}/finalize)."
            .to_string()
    } else {
        format!(
            "Lớp không thể chuyển từ trạng thái “{}” sang “{}”.",
            labels::cohort_status(from.as_str()),
            labels::cohort_status(to.as_str())
        )
    };
    Err(AppError::Conflict {
        code: ErrorCode::InvalidStatusTransition,
        message,
    })
}

/// The facts of one master-trainer certificate that decide whether it covers a cohort.
#[derive(Debug, Clone)]
pub struct MasterCertificateFacts {
    pub tier: Tier,
    pub status: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
}

/// Rule 2: valid (not revoked, not superseded) and not expired on any day of the cohort.
pub fn certificate_covers(
    cert: &MasterCertificateFacts,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> bool {
    cert.tier == Tier::MasterTrainer
        && cert.status == "valid"
        && cert.issued_on <= starts_on
        && cert.valid_until >= ends_on
}

pub fn instructor_not_certified(message: impl Into<String>) -> AppError {
    AppError::Rule {
        code: ErrorCode::InstructorNotCertified,
        message: message.into(),
    }
}

/// Tier 2 enrolment: officials, civil servants, public employees and reputable local people;
/// and a branch trains the people of its own province.
pub fn check_eligibility(
    tier: Tier,
    category: Option<Category>,
    organizer_kind: Option<OrganizationKind>,
    organizer_province: Option<&str>,
    person_province: Option<&str>,
) -> Result<(), AppError> {
    if tier == Tier::Propagandist {
        if !category.is_some_and(Category::may_train_as_propagandist) {
            return Err(AppError::Rule {
                code: ErrorCode::Ineligible,
                message: "Lớp bồi dưỡng tuyên truyền viên dành cho cán bộ, công chức, viên chức \
                          và người có uy tín ở địa phương."
                    .into(),
            });
        }
        if organizer_kind == Some(OrganizationKind::Branch) && organizer_province != person_province
        {
            return Err(AppError::Rule {
                code: ErrorCode::Ineligible,
                message: "Bảo hiểm xã hội cấp tỉnh chỉ bồi dưỡng người thuộc tỉnh, thành phố \
                          của mình."
                    .into(),
            });
        }
    }
    Ok(())
}

/// Vietnam's civil time (UTC+7, no daylight saving): session days are counted in it.
pub fn vietnam_time() -> FixedOffset {
    // 7 hours east of UTC is always a valid offset; the fallback is never taken
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix())
}

/// A teaching session's length in minutes, after checking it lies within the cohort's days
/// (in Vietnam's time) and lasts at most 12 hours.
pub fn session_minutes(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    cohort_starts_on: NaiveDate,
    cohort_ends_on: NaiveDate,
) -> Result<i32, AppError> {
    let mut errors = Vec::new();
    if ends_at <= starts_at {
        errors.push(FieldError::new(
            "ends_at",
            "Giờ kết thúc phải sau giờ bắt đầu.",
        ));
    }
    let minutes = (ends_at - starts_at).num_minutes();
    if minutes > 12 * 60 {
        errors.push(FieldError::new(
            "ends_at",
            "Một buổi học kéo dài tối đa 12 giờ.",
        ));
    }
    let tz = vietnam_time();
    let first_day = starts_at.with_timezone(&tz).date_naive();
    let last_day = ends_at.with_timezone(&tz).date_naive();
    if first_day < cohort_starts_on || last_day > cohort_ends_on {
        errors.push(FieldError::new(
            "starts_at",
            "Buổi học phải nằm trong thời gian của lớp.",
        ));
    }
    // whole minutes to the nanosecond: a fraction of a second would not match the stored
    // minutes (and a session under one second would be zero minutes long)
    if ends_at - starts_at != chrono::Duration::minutes(minutes) && errors.is_empty() {
        errors.push(FieldError::new(
            "ends_at",
            "Giờ bắt đầu và giờ kết thúc phải tròn phút.",
        ));
    }
    if errors.is_empty() {
        i32::try_from(minutes).map_err(|_| AppError::validation("ends_at", "Buổi học quá dài."))
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Share of session time attended, in percent (rule 3 counts hours, not sessions).
pub fn attendance_percent(total_minutes: i64, attended_minutes: i64) -> f64 {
    if total_minutes <= 0 {
        return 0.0;
    }
    let p = attended_minutes as f64 * 100.0 / total_minutes as f64;
    // two decimals are what people read; keeps 66.666… from looking like a pass at 66.67
    (p * 100.0).floor() / 100.0
}

/// What a course asks of a trainee.
#[derive(Debug, Clone, Copy)]
pub struct CompletionRule {
    pub min_attendance_percent: i32,
    pub pass_score: i32,
}

/// Rule 3: completed when attendance ≥ the minimum share of session hours **and** score ≥ pass.
pub fn completes(rule: CompletionRule, attendance_percent: f64, score: Option<f64>) -> bool {
    attendance_percent >= f64::from(rule.min_attendance_percent)
        && score.is_some_and(|s| s >= f64::from(rule.pass_score))
}

pub fn check_score(score: f64) -> Result<f64, AppError> {
    if score.is_finite() && (0.0..=100.0).contains(&score) {
        Ok(score)
    } else {
        Err(AppError::validation("score", "Điểm phải từ 0 đến 100."))
    }
}

/// Valid-until of a certificate: the issue date plus the course's validity in months.
pub fn valid_until(issued_on: NaiveDate, validity_months: i32) -> Option<NaiveDate> {
    let months = u32::try_from(validity_months).ok()?;
    issued_on.checked_add_months(chrono::Months::new(months))
}

/// Dates the service deals in: 1900 to 2200. Anything else is a typing mistake (and PostgreSQL
/// would refuse the far ones).
pub fn check_date(field: &str, date: NaiveDate) -> Result<NaiveDate, crate::error::FieldError> {
    use chrono::Datelike;
    if (1900..=2200).contains(&date.year()) {
        Ok(date)
    } else {
        Err(crate::error::FieldError::new(
            field,
            format!(
                "Ngày {} nằm ngoài khoảng cho phép (từ năm 1900 đến năm 2200).",
                date.format("%d/%m/%Y")
            ),
        ))
    }
}

/// Checks several optional dates at once, reporting every one out of range.
pub fn check_dates(dates: &[(&str, Option<NaiveDate>)]) -> Result<(), AppError> {
    let errors: Vec<FieldError> = dates
        .iter()
        .filter_map(|(field, d)| d.and_then(|d| check_date(field, d).err()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn only_the_state_agency_organises_tier_one() {
        assert!(check_organizer(Tier::MasterTrainer, Some(OrganizationKind::StateAgency)).is_ok());
        assert!(check_organizer(Tier::MasterTrainer, Some(OrganizationKind::Branch)).is_err());
        assert!(check_organizer(
            Tier::MasterTrainer,
            Some(OrganizationKind::ImplementingAgency)
        )
        .is_err());
    }

    #[test]
    fn tier_two_is_organised_by_the_implementing_agency_or_a_branch() {
        assert!(check_organizer(
            Tier::Propagandist,
            Some(OrganizationKind::ImplementingAgency)
        )
        .is_ok());
        assert!(check_organizer(Tier::Propagandist, Some(OrganizationKind::Branch)).is_ok());
        let err =
            check_organizer(Tier::Propagandist, Some(OrganizationKind::StateAgency)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WrongTierOrganizer);
        assert!(check_organizer(Tier::Propagandist, Some(OrganizationKind::Unit)).is_err());
    }

    #[test]
    fn status_machine_allows_only_forward_moves() {
        use CohortStatus::*;
        assert!(Planned.may_move_to(Open));
        assert!(Open.may_move_to(InProgress));
        assert!(InProgress.may_move_to(Cancelled));
        assert!(!Planned.may_move_to(InProgress));
        assert!(!InProgress.may_move_to(Completed));
        assert!(!Completed.may_move_to(Cancelled));
        assert!(!Cancelled.may_move_to(Open));
        assert_eq!(
            check_transition(Open, Planned).unwrap_err().code(),
            ErrorCode::InvalidStatusTransition
        );
    }

    fn cert(status: &str, issued: NaiveDate, until: NaiveDate) -> MasterCertificateFacts {
        MasterCertificateFacts {
            tier: Tier::MasterTrainer,
            status: status.into(),
            issued_on: issued,
            valid_until: until,
        }
    }

    #[test]
    fn certificate_expiring_mid_cohort_does_not_cover_it() {
        let c = cert("valid", d(2025, 1, 1), d(2027, 5, 10));
        assert!(!certificate_covers(&c, d(2027, 5, 10), d(2027, 5, 11)));
        assert!(certificate_covers(&c, d(2027, 5, 9), d(2027, 5, 10)));
    }

    #[test]
    fn revoked_superseded_or_later_issued_certificates_do_not_cover() {
        assert!(!certificate_covers(
            &cert("revoked", d(2025, 1, 1), d(2030, 1, 1)),
            d(2027, 5, 10),
            d(2027, 5, 11)
        ));
        assert!(!certificate_covers(
            &cert("superseded", d(2025, 1, 1), d(2030, 1, 1)),
            d(2027, 5, 10),
            d(2027, 5, 11)
        ));
        assert!(!certificate_covers(
            &cert("valid", d(2027, 5, 11), d(2030, 1, 1)),
            d(2027, 5, 10),
            d(2027, 5, 11)
        ));
    }

    #[test]
    fn tier_two_needs_an_eligible_category_and_the_branch_province() {
        let e = check_eligibility(Tier::Propagandist, Some(Category::Other), None, None, None)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Ineligible);
        assert!(
            check_eligibility(Tier::MasterTrainer, Some(Category::Other), None, None, None).is_ok()
        );
        assert!(check_eligibility(
            Tier::Propagandist,
            Some(Category::Official),
            Some(OrganizationKind::Branch),
            Some("01"),
            Some("79")
        )
        .is_err());
        assert!(check_eligibility(
            Tier::Propagandist,
            Some(Category::Official),
            Some(OrganizationKind::Branch),
            Some("01"),
            Some("01")
        )
        .is_ok());
        assert!(check_eligibility(
            Tier::Propagandist,
            Some(Category::Official),
            Some(OrganizationKind::ImplementingAgency),
            None,
            Some("79")
        )
        .is_ok());
    }

    #[test]
    fn attendance_threshold_uses_session_hours_not_session_count() {
        // attended 1 long session of 6 h, missed 2 short ones of 1 h each: 75 % of hours,
        // though only one of three sessions
        let p = attendance_percent(8 * 60, 6 * 60);
        assert_eq!(p, 75.0);
        let rule = CompletionRule {
            min_attendance_percent: 70,
            pass_score: 50,
        };
        assert!(completes(rule, p, Some(80.0)));
    }

    #[test]
    fn completion_needs_both_attendance_and_score() {
        let rule = CompletionRule {
            min_attendance_percent: 80,
            pass_score: 50,
        };
        assert!(completes(rule, 80.0, Some(50.0)));
        assert!(!completes(rule, 79.99, Some(100.0)));
        assert!(!completes(rule, 100.0, Some(49.5)));
        assert!(!completes(rule, 100.0, None));
        assert_eq!(attendance_percent(3 * 60, 2 * 60), 66.66);
    }

    #[test]
    fn sessions_fall_within_the_cohort_days_in_vietnam_time() {
        let tz = vietnam_time();
        let at = |day: u32, h: u32| {
            tz.with_ymd_and_hms(2027, 5, day, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(
            session_minutes(at(10, 8), at(10, 11), d(2027, 5, 10), d(2027, 5, 11)).unwrap(),
            180
        );
        // 06:00 on the 10th in Hà Nội is still the 9th in UTC: allowed
        assert!(session_minutes(at(10, 6), at(10, 8), d(2027, 5, 10), d(2027, 5, 11)).is_ok());
        assert!(session_minutes(at(12, 8), at(12, 9), d(2027, 5, 10), d(2027, 5, 11)).is_err());
        assert!(session_minutes(at(10, 9), at(10, 8), d(2027, 5, 10), d(2027, 5, 11)).is_err());
    }

    #[test]
    fn score_must_be_between_0_and_100() {
        assert!(check_score(0.0).is_ok());
        assert!(check_score(100.0).is_ok());
        assert!(check_score(100.5).is_err());
        assert!(check_score(f64::NAN).is_err());
    }

    #[test]
    fn validity_adds_months() {
        assert_eq!(valid_until(d(2027, 5, 11), 24), Some(d(2029, 5, 11)));
        assert_eq!(valid_until(d(2027, 1, 31), 1), Some(d(2027, 2, 28)));
    }
}
