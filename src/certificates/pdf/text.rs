//! The words as printed: Unicode clean-up and upper-casing, and how dates and codes are written.

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;

/// "Hà Nội, ngày 05 tháng 02 năm 2027": days < 10 and months 1 and 2 take a leading zero.
///
/// The rules for administrative documents (Nghị định 30/2020/NĐ-CP) zero-pad days below 10 and
/// months 1 and 2 only, so that "01"/"02" cannot be turned into "11"/"12"; other months are bare.
pub fn place_and_date(place: &str, date: NaiveDate) -> String {
    let month = date.month();
    let month = if month <= 2 {
        format!("{month:02}")
    } else {
        month.to_string()
    };
    format!(
        "{}, ngày {:02} tháng {} năm {}",
        clean(place),
        date.day(),
        month,
        date.year()
    )
}

/// NFC with whitespace runs (including stray newlines and tabs) collapsed to one space: the PDF
/// must carry precomposed letters, and control characters have no glyph.
///
/// printpdf maps each `char` to one glyph through the font's cmap and does no shaping or mark
/// positioning, so a decomposed letter would print its accent beside it; Vietnamese precomposed
/// letters all have their own glyph.
pub(super) fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Unicode upper-casing, re-normalised: `to_uppercase` may emit decomposed sequences for a few
/// letters, and the glyph lookup needs precomposed ones.
pub(super) fn upper(s: &str) -> String {
    clean(s).to_uppercase().nfc().collect()
}

pub(super) fn dmy(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// Groups a verification code in blocks of four for people who type it, unless it already
/// carries its own separators.
pub(super) fn group_code(code: &str) -> String {
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains('-') {
        return compact;
    }
    compact
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::pdf::samples::date;

    #[test]
    fn place_and_date_pads_days_and_first_two_months() {
        assert_eq!(
            place_and_date("Hà Nội", date(2027, 2, 5)),
            "Hà Nội, ngày 05 tháng 02 năm 2027"
        );
        assert_eq!(
            place_and_date("Hà Nội", date(2027, 5, 11)),
            "Hà Nội, ngày 11 tháng 5 năm 2027"
        );
        assert_eq!(
            place_and_date("Hà Nội", date(2027, 12, 25)),
            "Hà Nội, ngày 25 tháng 12 năm 2027"
        );
        assert_eq!(
            place_and_date("Hà Nội", date(2028, 1, 1)),
            "Hà Nội, ngày 01 tháng 01 năm 2028"
        );
        assert_eq!(
            place_and_date("Huế", date(2027, 10, 9)),
            "Huế, ngày 09 tháng 10 năm 2027"
        );
    }

    #[test]
    fn text_helpers() {
        assert_eq!(upper("Nguyễn Thị Hằng"), "NGUYỄN THỊ HẰNG");
        // Decomposed input comes out precomposed.
        assert_eq!(upper("Nguye\u{302}\u{303}n"), "NGUYỄN");
        assert_eq!(group_code("K7Q2ABCDEFGH23"), "K7Q2-ABCD-EFGH-23");
        assert_eq!(group_code("K7Q2-ABCD"), "K7Q2-ABCD");
        assert_eq!(clean(" a \n b\t"), "a b");
    }
}
