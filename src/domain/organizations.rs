//! Organisations: kinds, and what a new one must satisfy to hang in the tree.

use unicode_normalization::UnicodeNormalization;

use super::text;
use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationKind {
    /// The state management agency: issues master-trainer certificates (tier 1).
    StateAgency,
    /// Vietnam Social Security: organises tier 2 nationally.
    ImplementingAgency,
    /// A provincial branch of Vietnam Social Security: organises tier 2 in its province.
    Branch,
    /// Any workplace a trainee belongs to.
    Unit,
}

impl OrganizationKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "state_agency" => Some(Self::StateAgency),
            "implementing_agency" => Some(Self::ImplementingAgency),
            "branch" => Some(Self::Branch),
            "unit" => Some(Self::Unit),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateAgency => "state_agency",
            Self::ImplementingAgency => "implementing_agency",
            Self::Branch => "branch",
            Self::Unit => "unit",
        }
    }
}

/// Is this an organisation code: 2 to 32 upper-case letters, digits or '-', starting with a
/// letter or digit?
pub fn is_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && code
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// A text printed on certificates (a name, a signer, a title): no forbidden character, and none
/// the certificate font cannot draw.
fn check_printed(
    field: &'static str,
    s: &str,
    drawable: fn(char) -> bool,
) -> Result<(), FieldError> {
    if let Some(c) = s.chars().find(|&c| text::is_forbidden(c, false)) {
        return Err(text::forbidden_character(field, c));
    }
    text::check_drawable(field, s, drawable)
}

/// An organisation's name: 1 to 150 characters that the certificate font can draw.
pub fn check_name(raw: &str, drawable: fn(char) -> bool) -> Result<String, FieldError> {
    check_printed("name", raw, drawable)?;
    let name = clean_text(raw);
    if name.is_empty() || name.chars().count() > text::limits::ORGANIZATION_NAME {
        return Err(FieldError::new(
            "name",
            format!(
                "Tên đơn vị dài từ 1 đến {} ký tự.",
                text::limits::ORGANIZATION_NAME
            ),
        ));
    }
    Ok(name)
}

/// NFC, trimmed, inner whitespace collapsed.
pub fn clean_text(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Signer titles keep their line break (`KT. GIÁM ĐỐC` over `PHÓ GIÁM ĐỐC`).
pub fn clean_title(s: &str) -> String {
    s.lines()
        .map(clean_text)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Who signs: a person's name, at most 80 characters.
pub fn check_signer_name(raw: &str, drawable: fn(char) -> bool) -> Result<String, FieldError> {
    check_printed("signer_name", raw, drawable)?;
    let s = clean_text(raw);
    if s.is_empty() || s.chars().count() > 80 {
        return Err(FieldError::new(
            "signer_name",
            "Họ tên người ký dài từ 1 đến 80 ký tự.",
        ));
    }
    Ok(s)
}

/// The signer's title: one line, or two when signing on behalf (`KT. GIÁM ĐỐC` / `PHÓ GIÁM ĐỐC`),
/// each at most 40 characters.
pub fn check_signer_title(raw: &str, drawable: fn(char) -> bool) -> Result<String, FieldError> {
    // its one line break is the only control character it may hold
    check_printed(
        "signer_title",
        &raw.replace("\r\n", "\n").replace('\n', " "),
        drawable,
    )?;
    let s = clean_title(raw);
    let lines: Vec<&str> = s.lines().collect();
    if lines.is_empty() || lines.len() > 2 || lines.iter().any(|l| l.chars().count() > 40) {
        return Err(FieldError::new(
            "signer_title",
            "Chức danh người ký gồm một hoặc hai dòng, mỗi dòng tối đa 40 ký tự.",
        ));
    }
    Ok(s)
}

pub struct NewOrganization<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub province: Option<&'a str>,
    pub signer_name: Option<&'a str>,
    pub signer_title: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CheckedOrganization {
    pub code: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub province: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

/// Checks a new organisation against its parent (kind and province). The two national bodies
/// exist once, from the reference data; new ones are branches (under the implementing agency)
/// or units (under anything), and a unit inherits its parent's province unless it names one.
pub fn check_new_organization(
    new: NewOrganization<'_>,
    parent: Option<(Option<OrganizationKind>, Option<&str>)>,
    province_known: bool,
    drawable: fn(char) -> bool,
) -> Result<CheckedOrganization, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = new.code.trim().to_uppercase();
    if !is_code(&code) {
        errors.push(FieldError::new(
            "code",
            "Mã đơn vị dài từ 2 đến 32 ký tự, chỉ gồm chữ cái không dấu, chữ số và dấu “-”.",
        ));
    }
    let name = check_name(new.name, drawable)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let kind = OrganizationKind::parse(new.kind);
    match kind {
        None => errors.push(FieldError::new(
            "kind",
            "Loại đơn vị phải là state_agency, implementing_agency, branch hoặc unit.",
        )),
        Some(OrganizationKind::StateAgency | OrganizationKind::ImplementingAgency) => {
            errors.push(FieldError::new(
                "kind",
                "Hai cơ quan cấp trung ương đã có; đơn vị mới chỉ có thể là bảo hiểm xã hội cấp tỉnh \
                 (branch) hoặc đơn vị cơ sở (unit).",
            ))
        }
        _ => {}
    }
    if !province_known {
        errors.push(FieldError::new(
            "province",
            "Mã tỉnh, thành phố không thuộc 34 mã hiện hành.",
        ));
    }
    let mut province = new.province.map(|p| p.trim().to_string());
    match (kind, parent) {
        (_, None) => errors.push(FieldError::new("parent_id", "Cần chọn đơn vị cấp trên.")),
        (Some(OrganizationKind::Branch), Some((parent_kind, _))) => {
            if parent_kind != Some(OrganizationKind::ImplementingAgency) {
                errors.push(FieldError::new(
                    "parent_id",
                    "Bảo hiểm xã hội cấp tỉnh phải trực thuộc Bảo hiểm xã hội Việt Nam.",
                ));
            }
            if province.is_none() {
                errors.push(FieldError::new(
                    "province",
                    "Bảo hiểm xã hội cấp tỉnh phải có mã tỉnh, thành phố.",
                ));
            }
        }
        (Some(OrganizationKind::Unit), Some((_, parent_province))) => {
            if let (Some(own), Some(parents)) = (&province, parent_province) {
                if own != parents {
                    errors.push(FieldError::new(
                        "province",
                        "Đơn vị phải ở cùng tỉnh, thành phố với đơn vị cấp trên.",
                    ));
                }
            }
            if province.is_none() {
                province = parent_province.map(str::to_string);
            }
        }
        _ => {}
    }
    let signer_name = match new.signer_name.map(|n| check_signer_name(n, drawable)) {
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    let signer_title = match new.signer_title.map(|t| check_signer_title(t, drawable)) {
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    match (kind, errors.is_empty()) {
        (Some(kind), true) => Ok(CheckedOrganization {
            code,
            name,
            kind,
            province,
            signer_name,
            signer_title,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new<'a>(kind: &'a str, province: Option<&'a str>) -> NewOrganization<'a> {
        NewOrganization {
            code: "hn-hoankiem",
            name: "  Ủy ban   nhân dân phường Hoàn Kiếm ",
            kind,
            province,
            signer_name: None,
            signer_title: None,
        }
    }

    #[test]
    fn unit_inherits_the_province_of_its_parent() {
        let ok = check_new_organization(
            new("unit", None),
            Some((Some(OrganizationKind::Branch), Some("01"))),
            true,
            |_| true,
        )
        .unwrap();
        assert_eq!(ok.code, "HN-HOANKIEM");
        assert_eq!(ok.name, "Ủy ban nhân dân phường Hoàn Kiếm");
        assert_eq!(ok.province.as_deref(), Some("01"));
    }

    #[test]
    fn unit_in_another_province_than_its_parent_is_rejected() {
        let err = check_new_organization(
            new("unit", Some("79")),
            Some((Some(OrganizationKind::Branch), Some("01"))),
            true,
            |_| true,
        )
        .unwrap_err();
        assert_eq!(err[0].field, "province");
    }

    #[test]
    fn branch_must_hang_under_the_implementing_agency() {
        let err = check_new_organization(
            new("branch", Some("01")),
            Some((Some(OrganizationKind::StateAgency), None)),
            true,
            |_| true,
        )
        .unwrap_err();
        assert_eq!(err[0].field, "parent_id");
    }

    #[test]
    fn a_second_state_agency_cannot_be_created() {
        assert!(check_new_organization(new("state_agency", None), None, true, |_| true).is_err());
    }

    #[test]
    fn signer_title_keeps_its_two_lines() {
        assert_eq!(
            clean_title(" KT. GIÁM ĐỐC \n  PHÓ GIÁM ĐỐC "),
            "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"
        );
    }
}
