//! Free text from outside: the one rule for what a text field may hold, and the limit of each.
//!
//! Every text a person types (names, titles, places, reasons, search words) passes through
//! [`check_text`] before it reaches SQL, a PDF or a page: it is NFC-normalised and trimmed, and
//! refused when it holds a NUL or another control character (PostgreSQL refuses NUL, and controls
//! print as empty boxes), a bidirectional override (a name could display differently from what is
//! stored), or more characters than its field allows. Text that is printed on a certificate is
//! further held to what the certificate font can draw ([`check_drawable`]).

use unicode_normalization::UnicodeNormalization;

use super::labels;
use crate::error::FieldError;

/// Limits, in characters, of the free-text fields (stated in the OpenAPI document as well).
pub mod limits {
    /// A person's full name (printed on a certificate).
    pub const FULL_NAME: usize = 80;
    /// A login name.
    pub const USERNAME: usize = 64;
    /// A password as typed at login (a new one is held to 128 by the password rule).
    pub const PASSWORD: usize = 1024;
    /// An e-mail address (RFC 5321).
    pub const EMAIL: usize = 254;
    /// An organisation's name (printed on certificates, which must always fit).
    pub const ORGANIZATION_NAME: usize = 150;
    /// A course title.
    pub const COURSE_TITLE: usize = 200;
    /// A curriculum version ("Luật BHXH 2024").
    pub const CURRICULUM_VERSION: usize = 60;
    /// A cohort title.
    pub const COHORT_TITLE: usize = 200;
    /// Where a cohort is held.
    pub const COHORT_LOCATION: usize = 150;
    /// A cohort's campaign tag.
    pub const CAMPAIGN: usize = 100;
    /// A teaching session's topic.
    pub const SESSION_TOPIC: usize = 300;
    /// Why a certificate is revoked.
    pub const REVOCATION_REASON: usize = 500;
    /// A search phrase.
    pub const SEARCH: usize = 100;
    /// A refresh token as presented.
    pub const TOKEN: usize = 200;
}

/// Unicode's explicit bidirectional formatting characters: embeddings, overrides, isolates and
/// the implicit marks. None belongs in a name or a title.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// A character no text field accepts: NUL and every other control character (tab and line
/// breaks included, unless the field is multi-line), bidi controls, the byte-order mark,
/// zero-width characters (space, non-joiner, joiner, word joiner: invisible, they would let two
/// names that look the same differ), unassigned-forever code points (non-characters) and
/// private-use characters.
pub fn is_forbidden(c: char, multiline: bool) -> bool {
    if multiline && matches!(c, '\n' | '\t') {
        return false;
    }
    c.is_control()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{FEFF}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E000}'..='\u{F8FF}'
        )
        || (c as u32 & 0xFFFE) == 0xFFFE
        || ('\u{FDD0}'..='\u{FDEF}').contains(&c)
        || ('\u{F0000}'..='\u{10FFFF}').contains(&c)
}

/// How a character is named in a message: the glyph where it shows, and its code point.
pub fn describe(c: char) -> String {
    if c.is_control()
        || is_bidi_control(c)
        || c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}')
    {
        format!("U+{:04X}", c as u32)
    } else {
        format!("“{c}” (U+{:04X})", c as u32)
    }
}

/// What a text field allows.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    pub field: &'static str,
    pub max_chars: usize,
    /// May it be empty (after trimming)?
    pub optional: bool,
    /// May it hold line breaks and tabs (a reason, a signer's two-line title)?
    pub multiline: bool,
}

impl TextRule {
    /// A required one-line field.
    pub const fn line(field: &'static str, max_chars: usize) -> Self {
        TextRule {
            field,
            max_chars,
            optional: false,
            multiline: false,
        }
    }

    pub const fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub const fn multiline(mut self) -> Self {
        self.multiline = true;
        self
    }

    /// Checks `raw` and returns it NFC-normalised and trimmed (an optional field may come back
    /// empty). Line ends are normalised to `\n`.
    pub fn check(&self, raw: &str) -> Result<String, FieldError> {
        let nfc: String = raw.replace("\r\n", "\n").nfc().collect();
        let text = nfc.trim();
        if let Some(c) = text.chars().find(|&c| is_forbidden(c, self.multiline)) {
            return Err(forbidden_character(self.field, c));
        }
        if text.is_empty() && !self.optional {
            return Err(FieldError::new(
                self.field,
                format!("{} không được để trống.", labels::field(self.field)),
            ));
        }
        if text.chars().count() > self.max_chars {
            return Err(too_long(self.field, self.max_chars));
        }
        Ok(text.to_string())
    }
}

/// Checks a required one-line field (see [`TextRule::check`]).
pub fn check_text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    TextRule::line(field, max_chars).check(raw)
}

/// Refuses a value that holds a control character (NUL above all), without judging its shape
/// (passwords, tokens, codes that are then looked up): such a value can match nothing and NUL
/// would only make the database fail.
pub fn check_plain(field: &'static str, raw: &str, max_chars: usize) -> Result<(), FieldError> {
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return Err(forbidden_character(field, c));
    }
    if raw.chars().count() > max_chars {
        return Err(too_long(field, max_chars));
    }
    Ok(())
}

/// "Họ và tên không được chứa ký tự U+0007.": the field and the character, by name.
pub fn forbidden_character(field: &str, c: char) -> FieldError {
    FieldError::new(
        field,
        format!(
            "{} không được chứa ký tự {}.",
            labels::field(field),
            describe(c)
        ),
    )
}

fn too_long(field: &str, max_chars: usize) -> FieldError {
    FieldError::new(
        field,
        format!("{} dài tối đa {max_chars} ký tự.", labels::field(field)),
    )
}

/// Text printed on a certificate must be drawable by its font: `drawable` says whether a
/// character has a glyph (in every face and case the page uses). The error names the first
/// character that has none, instead of printing an empty box.
pub fn check_drawable(
    field: &'static str,
    text: &str,
    drawable: impl Fn(char) -> bool,
) -> Result<(), FieldError> {
    match text
        .chars()
        .find(|&c| !(c == '\n' || c == ' ' || drawable(c)))
    {
        None => Ok(()),
        Some(c) => Err(FieldError::new(
            field,
            format!(
                "{} có ký tự {} không in được trên giấy chứng nhận.",
                labels::field(field),
                describe(c)
            ),
        )),
    }
}

/// A LIKE pattern matching text that contains `needle` literally (`%`, `_` and `\` escaped).
pub fn contains_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Removes bidi controls for display: data stored before they were refused must still show as
/// it reads, never reordered.
pub fn without_bidi_controls(text: &str) -> String {
    text.chars().filter(|&c| !is_bidi_control(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters_are_refused_by_name() {
        let e = check_text("title", "hang\u{0}nt", 50).unwrap_err();
        assert!(e.message.contains("U+0000"), "{}", e.message);
        let e = check_text("location", "Phường\u{7}Ba Đình", 50).unwrap_err();
        assert!(e.message.contains("U+0007"));
        assert!(check_text("title", "a\nb", 50).is_err());
        assert_eq!(
            TextRule::line("reason", 50)
                .multiline()
                .check("a\r\nb")
                .unwrap(),
            "a\nb"
        );
        assert!(TextRule::line("reason", 50)
            .multiline()
            .check("a\0b")
            .is_err());
    }

    #[test]
    fn bidi_overrides_are_refused() {
        for c in [
            '\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{061C}',
        ] {
            assert!(
                check_text("full_name", &format!("Nguyễn{c}Hằng"), 80).is_err(),
                "{c:?}"
            );
        }
        assert_eq!(without_bidi_controls("a\u{202E}b\u{2066}c"), "abc");
    }

    #[test]
    fn text_is_trimmed_composed_and_limited() {
        let nfd: String = "Hằng".nfd().collect();
        assert_eq!(check_text("t", &format!("  {nfd} "), 10).unwrap(), "Hằng");
        assert!(check_text("t", "   ", 10).is_err());
        assert_eq!(TextRule::line("t", 10).optional().check(" ").unwrap(), "");
        assert!(check_text("t", &"ă".repeat(11), 10).is_err());
        assert!(check_text("t", &"ă".repeat(10), 10).is_ok());
    }

    #[test]
    fn private_use_and_noncharacters_are_refused() {
        assert!(check_text("t", "a\u{E000}", 10).is_err());
        assert!(check_text("t", "a\u{FFFF}", 10).is_err());
        assert!(check_text("t", "a\u{FEFF}", 10).is_err());
        assert!(check_text("t", "Nguyễn Thị Hằng 😀", 30).is_ok());
    }

    #[test]
    fn undrawable_characters_are_named() {
        let latin = |c: char| c.is_ascii() || "ằ".contains(c);
        assert!(check_drawable("full_name", "Hằng", latin).is_ok());
        let e = check_drawable("full_name", "Hằng 😀", latin).unwrap_err();
        assert!(
            e.message.contains("😀") && e.message.contains("U+1F600"),
            "{}",
            e.message
        );
    }

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn plain_values_refuse_nul_only_by_shape() {
        assert!(check_plain("password", "mật khẩu dài", 100).is_ok());
        assert!(check_plain("username", "hang\0nt", 64).is_err());
    }
}
