//! Property tests of the parsers that face the outside, through the library's public API: text
//! and names (`domain::text`, `domain::people::FullName`), dates as the API, query strings and
//! the audit search read them, and the claims a PDF carries (`cascade verify FILE.pdf`). The
//! CSV import, the CCCD and the verification code have theirs next to their code
//! (`#[cfg(test)] mod proptests`); the import's all-or-nothing write is in
//! `tests/api/import_properties.rs`.
//!
//! Failures are not persisted to files (the shrunk input is printed instead): a property that
//! finds something becomes a plain regression test.

use std::sync::OnceLock;

use cascade::certificates::pdf::{can_draw, extract_embedded_claims};
use cascade::certificates::{issuance, Issuer};
use cascade::domain::certificates::{
    format_serial, key_id, sign, verify_envelope, CertificateClaims, LineageClaim,
};
use cascade::domain::people::{search_fold, FullName};
use cascade::domain::text::{
    check_plain, check_text, contains_pattern, is_forbidden, without_bidi_controls, TextRule,
};
use cascade::domain::training::{check_date, Tier};
use chrono::{Datelike, NaiveDate};
use ed25519_dalek::VerifyingKey;
use proptest::prelude::*;
use unicode_normalization::{is_nfc, UnicodeNormalization};

/// `cases` by default; `PROPTEST_CASES=N` for a longer hunt.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Names and text
// ---------------------------------------------------------------------------------------------

/// Every Vietnamese letter with its tone marks, both cases, and đ.
const VIETNAMESE: &str =
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ\
                          AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬEÈÉẺẼẸÊỀẾỂỄỆIÌÍỈĨỊOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢUÙÚỦŨỤƯỪỨỬỮỰYỲÝỶỸỴĐ\
                          bcdghklmnpqrstvx";

fn letters() -> Vec<char> {
    VIETNAMESE.chars().collect()
}

/// A Vietnamese name: one to six words of one to seven letters, precomposed (NFC).
fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::collection::vec(proptest::sample::select(letters()), 1..8),
        1..7,
    )
    .prop_map(|words| {
        words
            .into_iter()
            .map(|w| w.into_iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Whitespace a form or a file may put around and between words.
fn spacing() -> impl Strategy<Value = String> {
    "[ \u{a0}\u{3000}]{0,3}"
}

/// Characters the text rule refuses: NUL and the other controls, bidi overrides and marks,
/// the byte-order mark, private-use characters and non-characters.
fn forbidden() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\0'),
        proptest::char::range('\u{1}', '\u{1f}'),
        proptest::char::range('\u{7f}', '\u{9f}'),
        proptest::sample::select(vec![
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}', '\u{FFFE}',
            '\u{FFFF}', '\u{FDD0}',
        ]),
        proptest::char::range('\u{E000}', '\u{F8FF}'),
        proptest::char::range('\u{F0000}', '\u{10FFFD}'),
    ]
}

/// Zero-width characters: invisible, so a name holding one would look like another.
const ZERO_WIDTH: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Inserts `c` inside `text` at a character boundary chosen by `at`.
fn insert_at(text: &str, at: prop::sample::Index, c: char) -> String {
    let chars: Vec<char> = text.chars().collect();
    let i = at.index(chars.len() + 1);
    chars[..i]
        .iter()
        .chain(std::iter::once(&c))
        .chain(&chars[i..])
        .collect()
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn nfc_and_nfd_forms_of_a_name_are_stored_the_same(
        name in name(),
        before in spacing(),
        after in spacing(),
    ) {
        let nfd: String = name.nfd().collect();
        let composed = FullName::parse(&format!("{before}{name}{after}"));
        let decomposed = FullName::parse(&format!("{before}{nfd}{after}"));
        prop_assert_eq!(&composed, &decomposed);
        let stored = composed.map_err(|e| TestCaseError::fail(e.message))?;
        prop_assert_eq!(stored.as_str(), name.as_str());
        prop_assert!(is_nfc(stored.as_str()));
        prop_assert_eq!(stored.search_key(), FullName::parse(&nfd).map(|n| n.search_key()).unwrap_or_default());
        prop_assert_eq!(search_fold(&name), search_fold(&nfd));
        prop_assert_eq!(check_text("full_name", &name, 500), check_text("full_name", &nfd, 500));
    }

    #[test]
    fn inner_whitespace_of_a_name_collapses_to_one_space(
        words in proptest::collection::vec(name(), 1..4),
        gaps in proptest::collection::vec("[ \t\u{a0}\u{3000}]{1,3}", 4),
    ) {
        let spaced: String = words
            .iter()
            .zip(&gaps)
            .map(|(w, g)| format!("{w}{g}"))
            .collect();
        let expected = words.join(" ");
        match FullName::parse(&spaced) {
            Ok(stored) => prop_assert_eq!(stored.as_str(), expected.as_str()),
            Err(e) => prop_assert!(expected.chars().count() > 80, "{}", e.message),
        }
    }

    #[test]
    fn a_forbidden_character_anywhere_in_a_name_or_text_is_refused_by_its_code_point(
        name in name(),
        c in forbidden(),
        at in any::<prop::sample::Index>(),
    ) {
        let tainted = insert_at(&name, at, c);
        let code_point = format!("U+{:04X}", c as u32);
        if c.is_whitespace() {
            // a line break or tab is white space: trimmed at the ends, collapsed inside a name,
            // refused inside one-line text; never stored
            if let Ok(text) = check_text("title", &tainted, 500) {
                prop_assert!(!text.contains(c), "stored {:?}", text);
            }
            if let Ok(stored) = FullName::parse(&tainted) {
                prop_assert!(!stored.as_str().contains(c), "stored {:?}", stored.as_str());
            }
        } else {
            let e = check_text("title", &tainted, 500);
            prop_assert!(e.is_err(), "accepted {:?}", tainted);
            let message = e.err().map(|e| e.message).unwrap_or_default();
            prop_assert!(message.contains(&code_point), "{}", message);
            prop_assert!(FullName::parse(&tainted).is_err(), "accepted {:?}", tainted);
            prop_assert!(TextRule::line("reason", 500).multiline().check(&tainted).is_err());
        }
    }

    #[test]
    fn a_zero_width_character_never_yields_a_second_name_that_looks_the_same(
        name in name(),
        c in proptest::sample::select(ZERO_WIDTH.to_vec()),
        at in any::<prop::sample::Index>(),
    ) {
        let tainted = insert_at(&name, at, c);
        // as a name is checked on its way in: the rule, then the certificate font
        let as_name = FullName::parse(&tainted).ok().filter(|n| n.as_str().chars().all(can_draw));
        if let Some(stored) = as_name {
            prop_assert_eq!(stored.as_str(), name.as_str(), "stored {:?}", stored.as_str());
        }
        if let Ok(text) = check_text("title", &tainted, 500) {
            prop_assert_eq!(text, name, "stored a zero-width character");
        }
    }

    #[test]
    fn accepted_text_is_trimmed_composed_clean_and_within_its_length(
        raw in any::<String>(),
        max in 1usize..64,
        multiline in any::<bool>(),
    ) {
        let rule = TextRule { field: "title", max_chars: max, optional: true, multiline };
        if let Ok(text) = rule.check(&raw) {
            prop_assert!(is_nfc(&text));
            prop_assert_eq!(text.trim(), text.as_str());
            prop_assert!(text.chars().count() <= max);
            prop_assert!(!text.chars().any(|c| is_forbidden(c, multiline)), "{:?}", text);
            prop_assert!(!text.contains('\r'));
        }
    }

    #[test]
    fn any_string_is_answered_without_a_panic(raw in any::<String>()) {
        let _ = check_text("title", &raw, 80);
        let _ = TextRule::line("reason", 500).multiline().optional().check(&raw);
        let _ = check_plain("password", &raw, 1024);
        let _ = search_fold(&raw);
        let _ = contains_pattern(&raw);
        if let Ok(name) = FullName::parse(&raw) {
            prop_assert!(name.as_str().chars().count() <= 80);
            prop_assert!(!name.as_str().chars().any(|c| c.is_ascii_digit()));
        }
        let shown = without_bidi_controls(&raw);
        prop_assert!(shown.chars().count() <= raw.chars().count());
    }

    #[test]
    fn length_is_counted_in_composed_characters(
        letters in proptest::collection::vec(proptest::sample::select(letters()), 1..120),
    ) {
        let name: String = letters.iter().collect();
        let nfd: String = name.nfd().collect();
        let n = name.chars().count();
        // a decomposed name has more code points than it has letters; the rule counts letters
        prop_assert_eq!(check_text("title", &nfd, 80).is_ok(), n <= 80);
        prop_assert_eq!(FullName::parse(&nfd).is_ok(), n <= 80);
    }
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// How an API body carries a date (`{"starts_on": "2027-05-10"}`).
#[derive(serde::Deserialize, Debug)]
struct Body {
    starts_on: NaiveDate,
}

/// How a query string carries one (`?issued_from=2027-05-01`).
#[derive(serde::Deserialize, Debug)]
struct Query {
    issued_from: Option<NaiveDate>,
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    // every date chrono can represent
    (NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce())
        .prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap_or_default())
}

fn service_date() -> impl Strategy<Value = NaiveDate> {
    (1900i32..=2200, 1u32..=366).prop_map(|(y, ordinal)| {
        NaiveDate::from_yo_opt(y, ordinal)
            .or_else(|| NaiveDate::from_yo_opt(y, 365))
            .unwrap_or_default()
    })
}

/// Text that looks like a date more often than chance would make it.
fn date_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[+-]?[0-9]{1,7}-[0-9]{1,3}-[0-9]{1,3}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?",
    ]
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn a_date_round_trips_through_a_body_and_a_query_string(date in service_date()) {
        let text = date.format("%Y-%m-%d").to_string();
        let body: Body = serde_json::from_value(serde_json::json!({ "starts_on": text }))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(body.starts_on, date);
        let query: Query = serde_urlencoded::from_str(&format!("issued_from={text}"))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(query.issued_from, Some(date));
        prop_assert_eq!(check_date("starts_on", date), Ok(date));
        let period = cascade::domain::audit::period(Some(&text), Some(&text))
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let from = period.from.map(|t| t.date_naive());
        prop_assert_eq!(from, Some(date));
    }

    #[test]
    fn any_text_as_a_date_is_answered_without_a_panic(raw in date_like(), other in date_like()) {
        let _ = serde_json::from_value::<Body>(serde_json::json!({ "starts_on": raw }));
        let encoded = serde_urlencoded::to_string(&[("issued_from", raw.as_str())][..]).unwrap_or_default();
        let _ = serde_urlencoded::from_str::<Query>(&encoded);
        if let Ok(period) = cascade::domain::audit::period(Some(&raw), Some(&other)) {
            if let (Some(from), Some(before)) = (period.from, period.before) {
                prop_assert!(from < before);
            }
            for at in [period.from, period.before].into_iter().flatten() {
                prop_assert!((1900..=2201).contains(&at.year()));
            }
        }
    }

    #[test]
    fn only_dates_from_1900_to_2200_are_taken(date in any_date()) {
        prop_assert_eq!(check_date("d", date).is_ok(), (1900..=2200).contains(&date.year()));
        let text = date.format("%Y-%m-%d").to_string();
        let period = cascade::domain::audit::period(Some(&text), None);
        prop_assert_eq!(period.is_ok(), (1900..=2200).contains(&date.year()));
    }
}

// ---------------------------------------------------------------------------------------------
// The claims in an untrusted PDF (`cascade verify FILE.pdf`)
// ---------------------------------------------------------------------------------------------

struct Genuine {
    pdf: Vec<u8>,
    claims: CertificateClaims,
    keys: Vec<(String, VerifyingKey)>,
    /// Where the embedded signed claims lie in the file.
    envelope: std::ops::Range<usize>,
}

/// A certificate as Cascade issues it: signed claims, rendered with the claims embedded.
fn genuine() -> &'static Genuine {
    static GENUINE: OnceLock<Genuine> = OnceLock::new();
    GENUINE.get_or_init(|| {
        let issuer = Issuer {
            signing_key_seed: [7u8; 32],
            public_url: "https://cascade.test".into(),
        };
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        let claims = CertificateClaims {
            v: 1,
            certificate_id: uuid::Uuid::from_u128(0x2027),
            serial: format_serial(42, 2027, "BHXH-HN"),
            verification_code: "K7Q2ABCDEFGHIJKLMNOPQRSTUVWXYZ23".into(),
            tier: Tier::Propagandist,
            holder_name: "Nguyễn Thị Hằng".into(),
            holder_birth_date: Some(d(1985, 4, 12)),
            holder_workplace: "Ủy ban nhân dân phường Ba Đình".into(),
            course_title: "Bồi dưỡng tuyên truyền viên về BHXH".into(),
            curriculum_version: "Luật BHXH 2024".into(),
            cohort_starts_on: d(2027, 5, 10),
            cohort_ends_on: d(2027, 5, 11),
            cohort_location: "Hà Nội".into(),
            issuer_code: "BHXH-HN".into(),
            issuer_name: "Bảo hiểm xã hội Thành phố Hà Nội".into(),
            issuer_parent_name: Some("Bảo hiểm xã hội Việt Nam".into()),
            place: "Hà Nội".into(),
            signer_name: "Trần Văn Ký".into(),
            signer_title: "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC".into(),
            issued_on: d(2027, 5, 11),
            valid_until: d(2029, 5, 11),
            lineage: vec![LineageClaim {
                certificate_id: uuid::Uuid::from_u128(1),
                serial: format_serial(7, 2026, "BHXH-VN"),
                holder_name: "Lê Văn Tuấn".into(),
            }],
            supersedes: None,
        };
        let bytes = claims.canonical_bytes();
        let key = issuer.signing_key();
        let kid = key_id(&key.verifying_key());
        let pdf = issuance::render(&issuer, &bytes, &sign(&key, &bytes), &kid).expect("render");
        let envelope = extract_embedded_claims(&pdf).expect("claims embedded");
        let start = pdf
            .windows(envelope.len())
            .position(|w| w == envelope.as_slice())
            .expect("the claims stream is stored uncompressed");
        Genuine {
            keys: vec![(kid, key.verifying_key())],
            claims,
            envelope: start..start + envelope.len(),
            pdf,
        }
    })
}

/// What `cascade verify` concludes from a file: `Some(claims)` when it would say VALID.
fn verified(pdf: &[u8]) -> Option<CertificateClaims> {
    let envelope = extract_embedded_claims(pdf)?;
    verify_envelope(&envelope, &genuine().keys).ok()
}

#[test]
fn a_genuine_certificate_verifies() {
    let g = genuine();
    assert_eq!(verified(&g.pdf), Some(g.claims.clone()));
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_bytes_as_a_pdf_are_refused_without_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        header in any::<bool>(),
    ) {
        let mut file = if header { b"%PDF-1.7\n".to_vec() } else { Vec::new() };
        file.extend_from_slice(&bytes);
        prop_assert_eq!(verified(&file), None);
    }

    #[test]
    fn a_truncated_certificate_is_refused_or_verifies_its_own_claims(
        at in any::<prop::sample::Index>(),
    ) {
        let g = genuine();
        let cut = &g.pdf[..at.index(g.pdf.len())];
        if let Some(claims) = verified(cut) {
            prop_assert_eq!(claims, g.claims.clone());
        }
        // cut inside the claims themselves, nothing can verify
        if cut.len() < g.envelope.end {
            prop_assert_eq!(verified(cut), None);
        }
    }

    #[test]
    fn a_bit_flipped_certificate_never_verifies_other_claims(
        flips in proptest::collection::vec(any::<prop::sample::Index>(), 1..8),
    ) {
        let g = genuine();
        let mut pdf = g.pdf.clone();
        for f in &flips {
            let bit = f.index(pdf.len() * 8);
            pdf[bit / 8] ^= 1 << (bit % 8);
        }
        if let Some(claims) = verified(&pdf) {
            prop_assert_eq!(claims, g.claims.clone());
        }
    }

    #[test]
    fn a_certificate_with_a_stretch_overwritten_never_verifies_other_claims(
        at in any::<prop::sample::Index>(),
        junk in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let g = genuine();
        let mut pdf = g.pdf.clone();
        let start = at.index(pdf.len());
        let end = (start + junk.len()).min(pdf.len());
        pdf[start..end].copy_from_slice(&junk[..end - start]);
        if let Some(claims) = verified(&pdf) {
            prop_assert_eq!(claims, g.claims.clone());
        }
    }

    #[test]
    fn a_flipped_bit_in_the_embedded_claims_never_verifies(bit in any::<prop::sample::Index>()) {
        let g = genuine();
        let mut pdf = g.pdf.clone();
        let bit = bit.index(g.envelope.len() * 8);
        pdf[g.envelope.start + bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verified(&pdf), None);
    }
}
