//! Retirement: what is left of a person who asked to leave the system — a tombstone username,
//! a name that says so, and the reason an administrator gives.

use uuid::Uuid;

use crate::domain::text::TextRule;
use crate::error::FieldError;

/// The name a retired person's profile shows instead of theirs.
pub const RETIRED_NAME: &str = "Người dùng đã rút khỏi hệ thống";

/// The longest reason accepted, in characters.
pub const REASON_MAX: usize = 500;

/// The username a retired person's row keeps: `retired-` and the first 8 hex digits of their id,
/// saying nothing of who they were.
pub fn tombstone_username(id: Uuid) -> String {
    let hex = id.simple().to_string();
    format!("retired-{}", &hex[..8])
}

/// The tombstone when the short one is already taken (by a living person who chose that name,
/// or by another retired person whose id starts alike): `retired-` and the whole id.
pub fn long_tombstone_username(id: Uuid) -> String {
    format!("retired-{}", id.simple())
}

/// Checks an administrator's reason for a retirement: required, at most [`REASON_MAX`]
/// characters, line breaks allowed; returned trimmed and NFC-normalised.
pub fn check_reason(raw: &str) -> Result<String, FieldError> {
    TextRule::line("reason", REASON_MAX).multiline().check(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tombstone_names_the_id_not_the_person() {
        let id = Uuid::parse_str("3f2a9c1e-0000-4000-8000-000000000000").unwrap();
        assert_eq!(tombstone_username(id), "retired-3f2a9c1e");
    }

    #[test]
    fn a_reason_is_required_and_at_most_500_characters() {
        assert!(check_reason("   ").is_err());
        assert!(check_reason(&"a".repeat(501)).is_err());
        assert_eq!(
            check_reason(" Người dùng yêu cầu\nngày 1/6 ").unwrap(),
            "Người dùng yêu cầu\nngày 1/6"
        );
        assert_eq!(check_reason(&"ă".repeat(500)).unwrap().chars().count(), 500);
    }
}
