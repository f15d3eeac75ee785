//! People: validated names, usernames, national ids (CCCD), categories, roles and passwords.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;

use crate::domain::text::limits;
use crate::error::FieldError;

/// A person's full name, trimmed, inner spaces collapsed and stored in Unicode NFC (decomposed
/// Vietnamese would compare unequal and render with misplaced marks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// At most [`limits::FULL_NAME`] characters: long enough for any Vietnamese name, short
    /// enough that a certificate always fits.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let nfc: String = raw.nfc().collect();
        let collapsed = nfc.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(FieldError::new(
                "full_name",
                "Họ và tên không được để trống.",
            ));
        }
        if collapsed.chars().count() > limits::FULL_NAME {
            return Err(FieldError::new(
                "full_name",
                format!("Họ và tên dài tối đa {} ký tự.", limits::FULL_NAME),
            ));
        }
        if let Some(c) = collapsed
            .chars()
            .find(|&c| crate::domain::text::is_forbidden(c, false))
        {
            return Err(crate::domain::text::forbidden_character("full_name", c));
        }
        if collapsed.chars().any(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                "full_name",
                "Họ và tên không được chứa chữ số.",
            ));
        }
        Ok(FullName(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form stored for search: lower case, without diacritics.
    pub fn search_key(&self) -> String {
        search_fold(&self.0)
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Folds text for diacritic- and case-insensitive search: "Nguyễn Thị Hằng" → "nguyen thi hang".
/// Vietnamese `đ`/`Đ` is a letter of its own, not a d with a mark, so it is mapped by hand.
pub fn search_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        match c {
            'đ' | 'Đ' => out.push('d'),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A login name: 3–64 characters of lower-case ASCII letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        let valid_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let first_ok = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !(3..=64).contains(&s.len()) || !valid_chars || !first_ok {
            return Err(FieldError::new(
                "username",
                "Tên đăng nhập dài từ 3 đến 64 ký tự, bắt đầu bằng chữ hoặc số, chỉ gồm chữ thường \
                 không dấu, chữ số và các dấu “.”, “_”, “-”.",
            ));
        }
        Ok(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A citizen identity card number (CCCD): 12 digits — the province of birth registration
/// (001–096), a century-and-sex digit, two digits of the birth year, six of sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalId(String);

impl NationalId {
    pub fn parse(raw: &str, date_of_birth: Option<NaiveDate>) -> Result<Self, FieldError> {
        let s = raw.trim();
        let err = |m: &str| Err(FieldError::new("national_id", m));
        if s.len() != 12 || !s.chars().all(|c| c.is_ascii_digit()) {
            return err("Số CCCD phải gồm đúng 12 chữ số.");
        }
        let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
        let province = digits[0] * 100 + digits[1] * 10 + digits[2];
        if !(1..=96).contains(&province) {
            return err("Số CCCD bắt đầu bằng mã tỉnh không hợp lệ (từ 001 đến 096).");
        }
        let century_digit = digits[3];
        if century_digit > 9 {
            return err("Số CCCD có chữ số chỉ thế kỷ không hợp lệ.");
        }
        let century_start = match century_digit {
            0 | 1 => 1900,
            2 | 3 => 2000,
            4 | 5 => 2100,
            6 | 7 => 2200,
            _ => 2300,
        };
        let year = century_start + (digits[4] * 10 + digits[5]) as i32;
        if let Some(dob) = date_of_birth {
            if dob.year() != year {
                return err("Số CCCD không khớp với ngày sinh (chữ số chỉ thế kỷ và năm sinh).");
            }
        } else if !(1900..=2099).contains(&year) {
            return err("Số CCCD mang năm sinh ngoài khoảng 1900–2099.");
        }
        Ok(NationalId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CCCD as lists, exports and staff views show it: the first 3 digits (the province) and the
/// last 3, the rest `*` — `001185012345` → `001******345`. A value too short to keep 6 digits
/// and hide at least one is hidden whole.
pub fn mask_national_id(national_id: &str) -> String {
    const SHOWN: usize = 3;
    let chars: Vec<char> = national_id.chars().collect();
    let n = chars.len();
    if n <= 2 * SHOWN {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < SHOWN || i >= n - SHOWN { c } else { '*' })
        .collect()
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Official,
    CivilServant,
    PublicEmployee,
    ReputablePerson,
    Other,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Official,
        Category::CivilServant,
        Category::PublicEmployee,
        Category::ReputablePerson,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Official => "official",
            Category::CivilServant => "civil_servant",
            Category::PublicEmployee => "public_employee",
            Category::ReputablePerson => "reputable_person",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    /// Tier-2 (propagandist) training is for officials, civil servants, public employees and
    /// reputable local people.
    pub fn may_train_as_propagandist(self) -> bool {
        !matches!(self, Category::Other)
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Hr,
    Trainee,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Coordinator, Role::Hr, Role::Trainee];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Hr => "hr",
            Role::Trainee => "trainee",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// The rules for a new password: at least 10 characters, at most 128, not the username.
pub fn check_new_password(username: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < 10 {
        return Err(FieldError::new(
            "password",
            "Mật khẩu phải có ít nhất 10 ký tự.",
        ));
    }
    if n > 128 {
        return Err(FieldError::new(
            "password",
            "Mật khẩu dài tối đa 128 ký tự.",
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(FieldError::new(
            "password",
            "Mật khẩu không được chứa ký tự điều khiển.",
        ));
    }
    if password.trim().to_lowercase() == username.trim().to_lowercase() {
        return Err(FieldError::new(
            "password",
            "Mật khẩu không được trùng với tên đăng nhập.",
        ));
    }
    Ok(())
}

/// A plausible e-mail address: one `@`, something on each side, no spaces.
pub fn check_email(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let mut parts = s.split('@');
    let ok = matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None)
        if !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.'))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= limits::EMAIL;
    if ok {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            "email",
            "Địa chỉ thư điện tử không hợp lệ.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_national_id_is_masked_but_its_province_and_last_digits() {
        assert_eq!(mask_national_id("001185012345"), "001******345");
        assert_eq!(mask_national_id("079190000001"), "079******001");
        assert_eq!(mask_national_id("1234567"), "123*567");
    }

    #[test]
    fn a_value_too_short_to_mask_is_hidden_whole() {
        assert_eq!(mask_national_id("123456"), "******");
        assert_eq!(mask_national_id(""), "");
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn decomposed_name_is_stored_composed() {
        let nfd: String = "Nguyễn Thị Hằng".nfd().collect();
        assert_ne!(nfd, "Nguyễn Thị Hằng");
        let name = FullName::parse(&format!("  {nfd}  ")).unwrap();
        assert_eq!(name.as_str(), "Nguyễn Thị Hằng");
    }

    #[test]
    fn search_fold_drops_diacritics_and_case() {
        assert_eq!(search_fold("Nguyễn Thị Hằng"), "nguyen thi hang");
        assert_eq!(search_fold("ĐẶNG Văn Đức"), "dang van duc");
        assert_eq!(search_fold("  Trần   Ánh  "), "tran anh");
    }

    #[test]
    fn empty_or_numeric_name_is_rejected() {
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse("Nguyen 2").is_err());
        assert!(FullName::parse(&"a".repeat(81)).is_err());
    }

    #[test]
    fn username_is_lowercased_and_checked() {
        assert_eq!(Username::parse(" Hang.NT ").unwrap().as_str(), "hang.nt");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("hằng").is_err());
        assert!(Username::parse(".hidden").is_err());
    }

    #[test]
    fn cccd_with_matching_birth_year_is_accepted() {
        // 001 Hà Nội, 1 = female born 1900–1999, 85 = 1985
        assert!(NationalId::parse("001185012345", Some(d(1985, 4, 12))).is_ok());
        // 2 = male born 2000–2099
        assert!(NationalId::parse("079203000001", Some(d(2003, 1, 1))).is_ok());
    }

    #[test]
    fn cccd_with_wrong_century_or_year_is_rejected() {
        assert!(NationalId::parse("001285012345", Some(d(1985, 4, 12))).is_err());
        assert!(NationalId::parse("001186012345", Some(d(1985, 4, 12))).is_err());
    }

    #[test]
    fn cccd_with_bad_shape_or_province_is_rejected() {
        assert!(NationalId::parse("00118501234", None).is_err());
        assert!(NationalId::parse("00118501234x", None).is_err());
        assert!(NationalId::parse("000185012345", None).is_err());
        assert!(NationalId::parse("097185012345", None).is_err());
    }

    #[test]
    fn password_rules() {
        assert!(check_new_password("hang", "short").is_err());
        assert!(check_new_password("hangnguyen1", "HANGNGUYEN1").is_err());
        assert!(check_new_password("hang", "một mật khẩu dài").is_ok());
    }

    #[test]
    fn only_other_category_is_ineligible_for_tier_two() {
        assert!(Category::Official.may_train_as_propagandist());
        assert!(Category::ReputablePerson.may_train_as_propagandist());
        assert!(!Category::Other.may_train_as_propagandist());
    }

    #[test]
    fn email_shape() {
        assert!(check_email("hang@bhxh.gov.vn").is_ok());
        assert!(check_email("hang@@x.vn").is_err());
        assert!(check_email("hang x@bhxh.vn").is_err());
    }
}

/// What a caller (API or CSV import) says about a person, before any check.
#[derive(Debug, Default, Clone)]
pub struct PersonInput {
    pub username: String,
    pub full_name: String,
    pub date_of_birth: Option<String>,
    pub national_id: Option<String>,
    pub email: Option<String>,
    pub category: String,
    pub roles: Vec<String>,
    pub password: Option<String>,
}

/// A person whose every field has been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPerson {
    pub username: Username,
    pub full_name: FullName,
    pub date_of_birth: Option<NaiveDate>,
    pub national_id: Option<NationalId>,
    pub email: Option<String>,
    pub category: Category,
    pub roles: Vec<Role>,
    pub password: Option<String>,
}

/// Parses `YYYY-MM-DD` as a date of birth: not in the future, after 1 January 1900.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            "date_of_birth",
            "Ngày sinh phải viết theo dạng năm-tháng-ngày (YYYY-MM-DD).",
        )
    })?;
    // the database holds birth dates after 1 January 1900 (a CHECK): the first day is refused
    // here, as a field error, rather than there, as a failure
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 2);
    if earliest.is_some_and(|first| d < first) || d > today {
        return Err(FieldError::new(
            "date_of_birth",
            "Ngày sinh phải sau ngày 01/01/1900 và không muộn hơn hôm nay.",
        ));
    }
    Ok(d)
}

pub fn parse_roles(raw: &[String]) -> Result<Vec<Role>, FieldError> {
    let mut roles = Vec::new();
    for r in raw {
        let role = Role::parse(r).ok_or_else(|| {
            FieldError::new(
                "roles",
                format!(
                    "“{r}” không phải là vai trò hợp lệ (admin, coordinator, hr hoặc trainee)."
                ),
            )
        })?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort();
    Ok(roles)
}

/// Checks every field, reporting all problems at once. `drawable` says whether the certificate
/// font has a glyph for a character: a name that could not be printed is refused here, naming
/// the character.
pub fn check_person(
    input: &PersonInput,
    today: NaiveDate,
    drawable: fn(char) -> bool,
) -> Result<CheckedPerson, Vec<FieldError>> {
    let mut errors = Vec::new();
    let username = Username::parse(&input.username)
        .map_err(|e| errors.push(e))
        .ok();
    let full_name = FullName::parse(&input.full_name)
        .and_then(|n| {
            crate::domain::text::check_drawable("full_name", n.as_str(), drawable).map(|()| n)
        })
        .map_err(|e| errors.push(e))
        .ok();
    let date_of_birth = match input.date_of_birth.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => parse_birth_date(raw, today)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let national_id = match input.national_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => NationalId::parse(raw, date_of_birth)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let email = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => check_email(raw).map_err(|e| errors.push(e)).ok(),
    };
    let category = Category::parse(&input.category);
    if category.is_none() {
        errors.push(FieldError::new(
            "category",
            "Đối tượng phải là official (cán bộ), civil_servant (công chức), public_employee \
             (viên chức), reputable_person (người có uy tín) hoặc other (khác).",
        ));
    }
    let roles = parse_roles(&input.roles).map_err(|e| errors.push(e)).ok();
    if let (Some(u), Some(p)) = (&username, &input.password) {
        if let Err(e) = check_new_password(u.as_str(), p) {
            errors.push(e);
        }
    }
    match (username, full_name, category, roles) {
        (Some(username), Some(full_name), Some(category), Some(roles)) if errors.is_empty() => {
            Ok(CheckedPerson {
                username,
                full_name,
                date_of_birth,
                national_id,
                email,
                category,
                roles,
                password: input.password.clone(),
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod person_tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn input() -> PersonInput {
        PersonInput {
            username: "hang.nt".into(),
            full_name: "Nguyễn Thị Hằng".into(),
            date_of_birth: Some("1985-04-12".into()),
            national_id: Some("001185012345".into()),
            email: None,
            category: "civil_servant".into(),
            roles: vec!["trainee".into()],
            password: None,
        }
    }

    #[test]
    fn a_complete_person_passes() {
        let p = check_person(&input(), today(), |_| true).unwrap();
        assert_eq!(p.roles, vec![Role::Trainee]);
        assert_eq!(p.national_id.unwrap().as_str(), "001185012345");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut i = input();
        i.username = "x".into();
        i.category = "boss".into();
        i.roles = vec!["king".into()];
        i.date_of_birth = Some("12/04/1985".into());
        let fields: Vec<String> = check_person(&i, today(), |_| true)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(fields.contains(&"username".to_string()));
        assert!(fields.contains(&"category".to_string()));
        assert!(fields.contains(&"roles".to_string()));
        assert!(fields.contains(&"date_of_birth".to_string()));
    }

    #[test]
    fn cccd_must_agree_with_the_birth_year() {
        let mut i = input();
        i.date_of_birth = Some("1990-01-01".into());
        let errors = check_person(&i, today(), |_| true).unwrap_err();
        assert_eq!(errors[0].field, "national_id");
    }

    #[test]
    fn birth_date_in_the_future_is_rejected() {
        assert!(parse_birth_date("2030-01-01", today()).is_err());
    }
}

/// Properties of the CCCD rule: every number built from the rule passes, every way of breaking
/// the rule is refused, and no string makes the check panic.
#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    use crate::domain::proptest_config as config;

    /// A CCCD built from the rule for a birth date: province 001–096, the century-and-sex digit
    /// (0/1 for 1900–1999, 2/3 for 2000–2099), the two last digits of the year, six of sequence.
    fn cccd_for(province: u32, female: bool, year: i32, sequence: u32) -> String {
        let century = (year / 100 - 19) as u32 * 2 + u32::from(female);
        format!("{province:03}{century}{:02}{sequence:06}", year % 100)
    }

    /// From 2 January 1900 (the first day is refused as a birth date) to the end of 2099.
    fn birth_date() -> impl Strategy<Value = NaiveDate> {
        (1900i32..=2099, 1u32..=12, 2u32..=28)
            .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
    }

    /// A valid CCCD with its birth date and the parts it was built from.
    fn valid() -> impl Strategy<Value = (String, NaiveDate)> {
        (1u32..=96, any::<bool>(), birth_date(), 0u32..1_000_000)
            .prop_map(|(p, f, dob, s)| (cccd_for(p, f, dob.year(), s), dob))
    }

    proptest! {
        #![proptest_config(config(512))]

        #[test]
        fn a_cccd_built_from_the_rule_is_accepted_with_or_without_its_birth_date(
            (cccd, dob) in valid(),
            pad in "[ \t]{0,3}",
        ) {
            let parsed = NationalId::parse(&format!("{pad}{cccd}{pad}"), Some(dob));
            prop_assert_eq!(parsed.map(|n| n.as_str().to_string()), Ok(cccd.clone()));
            prop_assert!(NationalId::parse(&cccd, None).is_ok());
        }

        #[test]
        fn a_province_outside_001_to_096_is_refused(
            (cccd, dob) in valid(),
            province in prop_oneof![Just(0u32), 97u32..=999],
        ) {
            let broken = format!("{province:03}{}", &cccd[3..]);
            prop_assert!(NationalId::parse(&broken, Some(dob)).is_err());
            prop_assert!(NationalId::parse(&broken, None).is_err());
        }

        #[test]
        fn a_century_digit_or_year_that_disagrees_with_the_birth_date_is_refused(
            (cccd, dob) in valid(),
            position in 3usize..6,
            shift in 1u32..10,
            female in any::<bool>(),
        ) {
            let mut digits: Vec<u32> = cccd.chars().filter_map(|c| c.to_digit(10)).collect();
            digits[position] = if position == 3 {
                // another century: the sex half of the digit is free (0↔1, 2↔3 name one century)
                ((digits[3] / 2 + shift % 4 + 1) % 5) * 2 + u32::from(female)
            } else {
                // another year: any other digit
                (digits[position] + shift) % 10
            };
            let broken: String = digits.iter().filter_map(|&d| char::from_digit(d, 10)).collect();
            prop_assert!(NationalId::parse(&broken, Some(dob)).is_err(), "{}", broken);
        }

        #[test]
        fn a_century_digit_beyond_2099_is_refused_without_a_birth_date(
            (cccd, _dob) in valid(),
            digit in 4u32..10,
        ) {
            let broken = format!("{}{digit}{}", &cccd[..3], &cccd[4..]);
            prop_assert!(NationalId::parse(&broken, None).is_err());
        }

        #[test]
        fn a_digit_more_or_less_is_refused(
            (cccd, dob) in valid(),
            at in 0usize..12,
            extra in 0u32..10,
        ) {
            let shorter = format!("{}{}", &cccd[..at], &cccd[at + 1..]);
            prop_assert!(NationalId::parse(&shorter, Some(dob)).is_err());
            prop_assert!(NationalId::parse(&shorter, None).is_err());
            let longer = format!("{}{extra}{}", &cccd[..at], &cccd[at..]);
            prop_assert!(NationalId::parse(&longer, Some(dob)).is_err());
            prop_assert!(NationalId::parse(&longer, None).is_err());
        }

        #[test]
        fn a_character_other_than_an_ascii_digit_is_refused(
            (cccd, dob) in valid(),
            at in 0usize..12,
            c in any::<char>().prop_filter("not an ASCII digit", |c| !c.is_ascii_digit()),
        ) {
            let mut chars: Vec<char> = cccd.chars().collect();
            chars[at] = c;
            let broken: String = chars.into_iter().collect();
            prop_assert!(NationalId::parse(&broken, Some(dob)).is_err(), "{:?}", broken);
            prop_assert!(NationalId::parse(&broken, None).is_err(), "{:?}", broken);
        }

        #[test]
        fn any_string_is_answered_without_a_panic(
            raw in prop_oneof![any::<String>(), "[0-9٠-٩０-９ -]{10,14}"],
            dob in proptest::option::of(birth_date()),
        ) {
            if let Ok(id) = NationalId::parse(&raw, dob) {
                prop_assert_eq!(id.as_str().len(), 12);
                prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn a_birth_date_round_trips_and_any_text_is_answered_without_a_panic(
            dob in birth_date(),
            raw in any::<String>(),
        ) {
            let today = NaiveDate::from_ymd_opt(2099, 12, 31).unwrap_or_default();
            let text = dob.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_birth_date(&format!(" {text} "), today), Ok(dob));
            if let Ok(d) = parse_birth_date(&raw, today) {
                prop_assert!(d.year() >= 1900 && d <= today);
            }
        }
    }
}
