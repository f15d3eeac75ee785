//! The outreach log's rules: the forms of an activity, what an entry may hold, who may record
//! one (a current propagandist or master-trainer certificate), on which days, and who may correct
//! or reject it.

use chrono::NaiveDate;

use super::organizations::clean_text;
use super::text::TextRule;
use crate::error::{AppError, ErrorCode, FieldError};

/// Most people one activity may claim to reach (a national broadcast is not one activity).
pub const MAX_AUDIENCE: i64 = 1_000_000;
/// Most employers or groups one activity may claim to reach.
pub const MAX_EMPLOYERS: i64 = 100_000;
/// Longest commune or ward name.
pub const COMMUNE: usize = 200;
/// Longest note.
pub const NOTE: usize = 2_000;
/// Longest reason for a rejection.
pub const REJECTION_REASON: usize = 500;

/// How an activity reached its audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutreachForm {
    DirectTalk,
    Conference,
    DoorToDoor,
    Online,
    SocialMedia,
    ShortVideo,
}

impl OutreachForm {
    pub const ALL: [OutreachForm; 6] = [
        OutreachForm::DirectTalk,
        OutreachForm::Conference,
        OutreachForm::DoorToDoor,
        OutreachForm::Online,
        OutreachForm::SocialMedia,
        OutreachForm::ShortVideo,
    ];

    /// The stored and JSON name.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutreachForm::DirectTalk => "direct_talk",
            OutreachForm::Conference => "conference",
            OutreachForm::DoorToDoor => "door_to_door",
            OutreachForm::Online => "online",
            OutreachForm::SocialMedia => "social_media",
            OutreachForm::ShortVideo => "short_video",
        }
    }

    /// What a person reads.
    pub const fn label(self) -> &'static str {
        match self {
            OutreachForm::DirectTalk => "Nói chuyện trực tiếp",
            OutreachForm::Conference => "Hội nghị, hội thảo",
            OutreachForm::DoorToDoor => "Đến từng nhà",
            OutreachForm::Online => "Trực tuyến",
            OutreachForm::SocialMedia => "Mạng xã hội",
            OutreachForm::ShortVideo => "Video ngắn",
        }
    }

    pub fn parse(s: &str) -> Option<OutreachForm> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The label of a stored form name (the name itself if unknown).
    pub fn label_of(s: &str) -> String {
        Self::parse(s).map_or_else(|| s.to_string(), |f| f.label().to_string())
    }
}

/// Where an entry stands: counted, or rejected by a coordinator (for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutreachStatus {
    Recorded,
    Rejected,
}

impl OutreachStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OutreachStatus::Recorded => "recorded",
            OutreachStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<OutreachStatus> {
        match s {
            "recorded" => Some(OutreachStatus::Recorded),
            "rejected" => Some(OutreachStatus::Rejected),
            _ => None,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            OutreachStatus::Recorded => "Đã ghi nhận",
            OutreachStatus::Rejected => "Bị từ chối",
        }
    }
}

/// An entry's fields as typed (the API's body, a form, a CSV line), before checking.
#[derive(Debug, Clone, Default)]
pub struct OutreachDraft {
    pub held_on: Option<NaiveDate>,
    pub province_code: String,
    pub commune: Option<String>,
    pub form: String,
    pub audience: Option<i64>,
    pub employers_reached: Option<i64>,
    pub note: Option<String>,
}

/// An entry's fields once checked: cleaned text, numbers in range, a known form. Whether the
/// province exists, the author may record and the campaign applies is for the caller to check
/// against the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOutreach {
    pub held_on: NaiveDate,
    pub province_code: String,
    pub commune: Option<String>,
    pub form: OutreachForm,
    pub audience: i32,
    pub employers_reached: Option<i32>,
    pub note: Option<String>,
}

/// Checks a draft on `today` (Vietnam's day): every broken rule with its field.
pub fn check_entry(
    draft: &OutreachDraft,
    today: NaiveDate,
) -> Result<CheckedOutreach, Vec<FieldError>> {
    let mut errors = Vec::new();
    let held_on = match draft.held_on {
        None => {
            errors.push(FieldError::new(
                "held_on",
                "Ngày tổ chức hoạt động không được để trống.",
            ));
            None
        }
        Some(day) => match check_held_on(day, today) {
            Ok(day) => Some(day),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    let province_code = draft.province_code.trim().to_string();
    if !(province_code.len() == 2 && province_code.bytes().all(|b| b.is_ascii_digit())) {
        errors.push(FieldError::new(
            "province_code",
            "Mã tỉnh, thành phố phải gồm hai chữ số (ví dụ 01 là Hà Nội).",
        ));
    }
    let commune = optional_text(
        TextRule::line("commune", COMMUNE).optional(),
        draft.commune.as_deref(),
        &mut errors,
    )
    .map(|c| clean_text(&c));
    let note = optional_text(
        TextRule::line("note", NOTE).optional().multiline(),
        draft.note.as_deref(),
        &mut errors,
    );
    let form = OutreachForm::parse(draft.form.trim());
    if form.is_none() {
        errors.push(FieldError::new("form", FORM_UNKNOWN));
    }
    let audience = match draft.audience {
        None => {
            errors.push(FieldError::new(
                "audience",
                "Số người được tuyên truyền không được để trống.",
            ));
            None
        }
        Some(n) => match check_audience(n) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    let employers_reached = match draft.employers_reached.map(check_employers).transpose() {
        Ok(n) => n,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (held_on, form, audience) {
        (Some(held_on), Some(form), Some(audience)) if errors.is_empty() => Ok(CheckedOutreach {
            held_on,
            province_code,
            commune,
            form,
            audience,
            employers_reached,
            note,
        }),
        _ => Err(errors),
    }
}

fn optional_text(
    rule: TextRule,
    raw: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match rule.check(raw.unwrap_or("")) {
        Ok(text) if text.is_empty() => None,
        Ok(text) => Some(text),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// The forms, as a sentence for an unknown one.
const FORM_UNKNOWN: &str = "Hình thức phải là direct_talk (nói chuyện trực tiếp), conference \
    (hội nghị), door_to_door (đến từng nhà), online (trực tuyến), social_media (mạng xã hội) \
    hoặc short_video (video ngắn).";

/// An activity is recorded after it happened: never on a day after `today`.
pub fn check_held_on(held_on: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if held_on > today {
        return Err(FieldError::new(
            "held_on",
            "Ngày tổ chức hoạt động không được sau ngày hôm nay.",
        ));
    }
    super::training::check_date("held_on", held_on)
}

/// At least one person, at most [`MAX_AUDIENCE`].
pub fn check_audience(n: i64) -> Result<i32, FieldError> {
    if (1..=MAX_AUDIENCE).contains(&n) {
        Ok(n as i32)
    } else {
        Err(FieldError::new(
            "audience",
            format!(
                "Số người được tuyên truyền phải là số nguyên từ 1 đến {}.",
                super::labels::number(MAX_AUDIENCE as usize)
            ),
        ))
    }
}

/// None or more, at most [`MAX_EMPLOYERS`].
pub fn check_employers(n: i64) -> Result<i32, FieldError> {
    if (0..=MAX_EMPLOYERS).contains(&n) {
        Ok(n as i32)
    } else {
        Err(FieldError::new(
            "employers_reached",
            format!(
                "Số đơn vị, nhóm được tiếp cận phải là số nguyên từ 0 đến {}.",
                super::labels::number(MAX_EMPLOYERS as usize)
            ),
        ))
    }
}

/// Why a coordinator rejects an entry: 1 to 500 characters.
pub fn check_rejection_reason(raw: &str) -> Result<String, FieldError> {
    TextRule::line("reason", REJECTION_REASON)
        .multiline()
        .check(raw)
}

/// One of a person's certificates as the outreach rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    /// `propagandist` or `master_trainer`; other tiers do not qualify.
    pub tier: String,
    /// `valid`, `revoked` or `superseded`.
    pub status: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// The first day a revoked or superseded certificate no longer counted.
    pub ended_on: Option<NaiveDate>,
}

impl Certification {
    fn qualifies(&self) -> bool {
        matches!(self.tier.as_str(), "propagandist" | "master_trainer")
    }

    /// Did this certificate count on `day`: issued, not expired, not yet revoked or replaced?
    pub fn counted_on(&self, day: NaiveDate) -> bool {
        self.qualifies()
            && self.issued_on <= day
            && day <= self.valid_until
            && self.ended_on.is_none_or(|ended| day < ended)
    }

    /// Is it valid now: status valid, issued on or before `today`, not expired?
    pub fn current_on(&self, today: NaiveDate) -> bool {
        self.qualifies()
            && self.status == "valid"
            && self.issued_on <= today
            && today <= self.valid_until
    }
}

/// Only a person holding, on the day of recording, a valid propagandist or master-trainer
/// certificate records outreach (422 `not_certified` otherwise).
pub fn require_current_certificate(
    held: &[Certification],
    today: NaiveDate,
) -> Result<(), AppError> {
    if held.iter().any(|c| c.current_on(today)) {
        Ok(())
    } else {
        Err(not_certified(
            "Chỉ người có giấy chứng nhận tuyên truyền viên hoặc giảng viên nguồn còn hiệu lực \
             mới ghi nhận được hoạt động tuyên truyền.",
        ))
    }
}

/// An activity counts on a day when the author was certified: some certificate of theirs
/// counted on `held_on` (422 `not_certified` otherwise).
pub fn require_certified_on(held: &[Certification], held_on: NaiveDate) -> Result<(), AppError> {
    if held.iter().any(|c| c.counted_on(held_on)) {
        Ok(())
    } else {
        Err(not_certified(format!(
            "Ngày {} nằm ngoài thời gian hiệu lực giấy chứng nhận của người thực hiện; \
             chỉ ghi nhận hoạt động trong thời gian được chứng nhận.",
            held_on.format("%d/%m/%Y")
        )))
    }
}

pub fn not_certified(message: impl Into<String>) -> AppError {
    AppError::Rule {
        code: ErrorCode::NotCertified,
        message: message.into(),
    }
}

/// A campaign as the outreach rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSpan {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Is it a campaign of the author's organisation or of one above it?
    pub of_authors_chain: bool,
}

/// An entry may belong to a campaign of the author's organisation (or one above it) whose dates
/// contain the day of the activity (422 `campaign_not_applicable` otherwise).
pub fn check_campaign(campaign: &CampaignSpan, held_on: NaiveDate) -> Result<(), AppError> {
    let message = if !campaign.of_authors_chain {
        "Chiến dịch này không thuộc đơn vị của người thực hiện hay đơn vị cấp trên."
    } else if held_on < campaign.starts_on || held_on > campaign.ends_on {
        "Ngày tổ chức hoạt động nằm ngoài thời gian của chiến dịch."
    } else {
        return Ok(());
    };
    Err(AppError::Rule {
        code: ErrorCode::CampaignNotApplicable,
        message: message.into(),
    })
}

/// What a caller asks of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutreachChange {
    Correct,
    Reject,
}

/// Who may change an entry: its author corrects it while it stands recorded; a coordinator of
/// its organisation corrects or rejects it; nobody changes a rejected entry (409). The caller has
/// already been found to see the entry.
pub fn check_change(
    change: OutreachChange,
    is_author: bool,
    coordinates: bool,
    status: OutreachStatus,
) -> Result<(), AppError> {
    let allowed = match change {
        OutreachChange::Correct => is_author || coordinates,
        OutreachChange::Reject => coordinates,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    if status == OutreachStatus::Rejected {
        return Err(AppError::conflict(
            "Hoạt động này đã bị từ chối; không thể thay đổi thêm.",
        ));
    }
    Ok(())
}

/// A caller who knew version `expected` changes an entry now at `current` (409 when stale).
pub fn check_version(expected: Option<i32>, current: i32) -> Result<(), AppError> {
    match expected {
        Some(v) if v != current => Err(AppError::conflict(format!(
            "Hoạt động đã được người khác sửa (phiên bản {current}, bạn sửa phiên bản {v}); \
             hãy tải lại và thử lại."
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn draft() -> OutreachDraft {
        OutreachDraft {
            held_on: Some(day(2027, 5, 20)),
            province_code: "01".into(),
            commune: Some("  Phường   Ba Đình ".into()),
            form: "door_to_door".into(),
            audience: Some(40),
            employers_reached: Some(3),
            note: Some("Tuyên truyền BHXH tự nguyện".into()),
        }
    }

    fn certificate(tier: &str, status: &str, issued: NaiveDate, until: NaiveDate) -> Certification {
        Certification {
            tier: tier.into(),
            status: status.into(),
            issued_on: issued,
            valid_until: until,
            ended_on: None,
        }
    }

    #[test]
    fn every_form_has_a_vietnamese_label_and_reads_back_from_its_name() {
        for form in OutreachForm::ALL {
            assert_eq!(OutreachForm::parse(form.as_str()), Some(form));
            assert!(!form.label().is_ascii(), "{}", form.label());
        }
        assert_eq!(OutreachForm::parse("radio"), None);
        assert_eq!(OutreachForm::label_of("short_video"), "Video ngắn");
    }

    #[test]
    fn a_good_draft_is_cleaned() {
        let checked = check_entry(&draft(), day(2027, 6, 1)).unwrap();
        assert_eq!(checked.commune.as_deref(), Some("Phường Ba Đình"));
        assert_eq!(checked.form, OutreachForm::DoorToDoor);
        assert_eq!((checked.audience, checked.employers_reached), (40, Some(3)));
    }

    #[test]
    fn an_activity_in_the_future_is_refused_and_today_is_taken() {
        let mut d = draft();
        d.held_on = Some(day(2027, 6, 2));
        let errors = check_entry(&d, day(2027, 6, 1)).unwrap_err();
        assert_eq!(errors[0].field, "held_on");
        d.held_on = Some(day(2027, 6, 1));
        assert!(check_entry(&d, day(2027, 6, 1)).is_ok());
    }

    #[test]
    fn audience_is_at_least_one_and_bounded() {
        for (n, ok) in [
            (0, false),
            (1, true),
            (MAX_AUDIENCE, true),
            (MAX_AUDIENCE + 1, false),
            (-5, false),
        ] {
            assert_eq!(check_audience(n).is_ok(), ok, "{n}");
        }
        let mut d = draft();
        d.audience = None;
        assert_eq!(
            check_entry(&d, day(2027, 6, 1)).unwrap_err()[0].field,
            "audience"
        );
    }

    #[test]
    fn employers_are_optional_zero_or_more() {
        assert_eq!(check_employers(0).unwrap(), 0);
        assert!(check_employers(-1).is_err());
        assert!(check_employers(MAX_EMPLOYERS + 1).is_err());
        let mut d = draft();
        d.employers_reached = None;
        assert_eq!(
            check_entry(&d, day(2027, 6, 1)).unwrap().employers_reached,
            None
        );
    }

    #[test]
    fn commune_and_note_are_optional_and_bounded() {
        let mut d = draft();
        d.commune = Some("x".repeat(COMMUNE + 1));
        d.note = Some("y".repeat(NOTE + 1));
        let fields: Vec<String> = check_entry(&d, day(2027, 6, 1))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["commune", "note"]);
        d.commune = Some("   ".into());
        d.note = Some("Dòng một\r\nDòng hai".into());
        let checked = check_entry(&d, day(2027, 6, 1)).unwrap();
        assert_eq!(checked.commune, None);
        assert_eq!(checked.note.as_deref(), Some("Dòng một\nDòng hai"));
        d.commune = Some("Xã\u{0}".into());
        assert_eq!(
            check_entry(&d, day(2027, 6, 1)).unwrap_err()[0].field,
            "commune"
        );
    }

    #[test]
    fn province_code_is_two_digits_and_form_one_of_six() {
        let mut d = draft();
        d.province_code = "HN".into();
        d.form = "radio".into();
        let fields: Vec<String> = check_entry(&d, day(2027, 6, 1))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["province_code", "form"]);
    }

    #[test]
    fn rejection_reason_is_one_to_five_hundred_characters() {
        assert!(check_rejection_reason("  ").is_err());
        assert!(check_rejection_reason(&"a".repeat(501)).is_err());
        assert_eq!(check_rejection_reason(" Trùng lặp ").unwrap(), "Trùng lặp");
    }

    #[test]
    fn only_a_current_propagandist_or_master_trainer_certificate_lets_a_person_record() {
        let today = day(2027, 6, 1);
        let valid = certificate("propagandist", "valid", day(2027, 1, 1), day(2029, 1, 1));
        assert!(require_current_certificate(std::slice::from_ref(&valid), today).is_ok());
        let master = certificate("master_trainer", "valid", day(2026, 1, 1), day(2028, 1, 1));
        assert!(require_current_certificate(&[master], today).is_ok());
        let expired = certificate("propagandist", "valid", day(2025, 1, 1), day(2027, 5, 31));
        let revoked = certificate("propagandist", "revoked", day(2027, 1, 1), day(2029, 1, 1));
        let future = certificate("propagandist", "valid", day(2027, 6, 2), day(2029, 1, 1));
        let other = certificate("observer", "valid", day(2027, 1, 1), day(2029, 1, 1));
        for held in [
            vec![],
            vec![expired],
            vec![revoked],
            vec![future],
            vec![other],
        ] {
            let e = require_current_certificate(&held, today).unwrap_err();
            assert_eq!(e.code(), ErrorCode::NotCertified, "{held:?}");
        }
    }

    #[test]
    fn an_activity_must_fall_within_the_authors_certification() {
        let mut c = certificate("propagandist", "revoked", day(2027, 1, 10), day(2029, 1, 1));
        c.ended_on = Some(day(2027, 5, 1));
        let held = [c];
        assert!(require_certified_on(&held, day(2027, 1, 10)).is_ok());
        assert!(require_certified_on(&held, day(2027, 4, 30)).is_ok());
        assert!(require_certified_on(&held, day(2027, 1, 9)).is_err());
        assert_eq!(
            require_certified_on(&held, day(2027, 5, 1))
                .unwrap_err()
                .code(),
            ErrorCode::NotCertified
        );
    }

    #[test]
    fn a_campaign_applies_only_in_the_authors_chain_and_within_its_dates() {
        let may = CampaignSpan {
            starts_on: day(2027, 5, 1),
            ends_on: day(2027, 5, 31),
            of_authors_chain: true,
        };
        assert!(check_campaign(&may, day(2027, 5, 1)).is_ok());
        assert!(check_campaign(&may, day(2027, 5, 31)).is_ok());
        let e = check_campaign(&may, day(2027, 6, 1)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CampaignNotApplicable);
        let elsewhere = CampaignSpan {
            of_authors_chain: false,
            ..may
        };
        assert!(check_campaign(&elsewhere, day(2027, 5, 10)).is_err());
    }

    #[test]
    fn the_author_corrects_while_recorded_and_only_a_coordinator_rejects() {
        use OutreachChange::*;
        use OutreachStatus::*;
        assert!(check_change(Correct, true, false, Recorded).is_ok());
        assert!(check_change(Correct, false, true, Recorded).is_ok());
        assert!(matches!(
            check_change(Reject, true, false, Recorded),
            Err(AppError::Forbidden)
        ));
        assert!(check_change(Reject, false, true, Recorded).is_ok());
        assert!(matches!(
            check_change(Correct, false, false, Recorded),
            Err(AppError::Forbidden)
        ));
        for change in [Correct, Reject] {
            let e = check_change(change, true, true, Rejected).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Conflict);
        }
    }

    #[test]
    fn a_stale_version_is_a_conflict() {
        assert!(check_version(None, 3).is_ok());
        assert!(check_version(Some(3), 3).is_ok());
        assert_eq!(
            check_version(Some(2), 3).unwrap_err().code(),
            ErrorCode::Conflict
        );
    }
}
