//! Certificates as claims: serial numbers, verification codes, the canonical signed encoding,
//! and the status a verifier sees (rules 4 and 5).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::training::Tier;

/// `000042/2027/GCN-BHXH-HN`: the number within the issuer's year, the year, the issuer's code.
pub fn format_serial(number: i32, year: i32, issuer_code: &str) -> String {
    format!("{number:06}/{year}/GCN-{issuer_code}")
}

/// A file name for a serial: slashes become dashes (`000042-2027-GCN-BHXH-HN.pdf`).
pub fn serial_file_name(serial: &str) -> String {
    let safe: String = serial
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{safe}.pdf")
}

/// 160 random bits in base32 (32 characters of A–Z and 2–7): unguessable, and easy to type.
pub fn new_verification_code() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// What people type: any case, with or without the grouping dashes and spaces.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = (26..=64).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c));
    ok.then_some(code)
}

/// The code in groups of four for printing: `K7Q2-ABCD-…`.
pub fn group_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// One master-trainer certificate in a tier-2 certificate's lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageClaim {
    pub certificate_id: Uuid,
    pub serial: String,
    pub holder_name: String,
}

/// Everything a certificate asserts. The canonical encoding is this struct as compact JSON, its
/// fields in this order, every string NFC: the same claims always give the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateClaims {
    /// Version of this encoding.
    pub v: u8,
    pub certificate_id: Uuid,
    pub serial: String,
    pub verification_code: String,
    pub tier: Tier,
    pub holder_name: String,
    pub holder_birth_date: Option<NaiveDate>,
    pub holder_workplace: String,
    pub course_title: String,
    pub curriculum_version: String,
    pub cohort_starts_on: NaiveDate,
    pub cohort_ends_on: NaiveDate,
    pub cohort_location: String,
    pub issuer_code: String,
    pub issuer_name: String,
    pub issuer_parent_name: Option<String>,
    pub place: String,
    pub signer_name: String,
    pub signer_title: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub lineage: Vec<LineageClaim>,
    /// Serial of the certificate this one corrects.
    pub supersedes: Option<String>,
}

impl CertificateClaims {
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // serialising a struct of strings, dates and ids cannot fail
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Identifies a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public_key: &VerifyingKey) -> String {
    let digest = Sha256::digest(public_key.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sign(key: &SigningKey, claims_bytes: &[u8]) -> [u8; 64] {
    key.sign(claims_bytes).to_bytes()
}

/// The claims and their signature as they travel inside a PDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedClaims {
    pub kid: String,
    /// The canonical claims bytes, base64.
    pub claims: String,
    /// Ed25519 signature over those bytes, base64.
    pub signature: String,
}

impl SignedClaims {
    pub fn new(kid: &str, claims_bytes: &[u8], signature: &[u8]) -> Self {
        SignedClaims {
            kid: kid.to_string(),
            claims: BASE64.encode(claims_bytes),
            signature: BASE64.encode(signature),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Why a signed envelope does not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the embedded claims cannot be read")]
    Unreadable,
    #[error("the certificate was signed with an unknown key ({0})")]
    UnknownKey(String),
    #[error("the signature does not match the claims: the document was altered or forged")]
    BadSignature,
}

/// Checks an envelope against the known public keys (`kid` → key); returns the claims.
pub fn verify_envelope(
    envelope: &[u8],
    keys: &[(String, VerifyingKey)],
) -> Result<CertificateClaims, VerifyError> {
    let signed: SignedClaims =
        serde_json::from_slice(envelope).map_err(|_| VerifyError::Unreadable)?;
    let claims_bytes = BASE64
        .decode(&signed.claims)
        .map_err(|_| VerifyError::Unreadable)?;
    let signature_bytes: [u8; 64] = BASE64
        .decode(&signed.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::Unreadable)?;
    let key = keys
        .iter()
        .find(|(kid, _)| *kid == signed.kid)
        .map(|(_, k)| k)
        .ok_or_else(|| VerifyError::UnknownKey(signed.kid.clone()))?;
    key.verify(&claims_bytes, &Signature::from_bytes(&signature_bytes))
        .map_err(|_| VerifyError::BadSignature)?;
    serde_json::from_slice(&claims_bytes).map_err(|_| VerifyError::Unreadable)
}

/// What a verifier is told: revocation and supersession first, then expiry.
pub fn public_status(stored: &str, valid_until: NaiveDate, today: NaiveDate) -> &'static str {
    match stored {
        "revoked" => "revoked",
        "superseded" => "superseded",
        _ if valid_until < today => "expired",
        _ => "valid",
    }
}

/// Issue date: the cohort's last day, or today when finalising later.
pub fn issue_date(cohort_ends_on: NaiveDate, today: NaiveDate) -> NaiveDate {
    cohort_ends_on.max(today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub(super) fn claims() -> CertificateClaims {
        CertificateClaims {
            v: 1,
            certificate_id: Uuid::nil(),
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
            lineage: vec![],
            supersedes: None,
        }
    }

    #[test]
    fn serial_has_six_digits_year_and_issuer() {
        assert_eq!(
            format_serial(42, 2027, "BHXH-HN"),
            "000042/2027/GCN-BHXH-HN"
        );
        assert_eq!(
            serial_file_name("000042/2027/GCN-BHXH-HN"),
            "000042-2027-GCN-BHXH-HN.pdf"
        );
    }

    #[test]
    fn verification_codes_are_160_bit_base32_and_distinct() {
        let a = new_verification_code();
        let b = new_verification_code();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(normalize_code(&group_code(&a).to_lowercase()), Some(a));
        assert_eq!(normalize_code("short"), None);
        assert_eq!(normalize_code("0000000000000000000000000000000"), None);
    }

    #[test]
    fn canonical_bytes_are_stable() {
        assert_eq!(claims().canonical_bytes(), claims().canonical_bytes());
        let text = String::from_utf8(claims().canonical_bytes()).unwrap();
        assert!(text.starts_with("{\"v\":1,\"certificate_id\""));
    }

    #[test]
    fn envelope_verifies_and_a_changed_claim_does_not() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let kid = key_id(&key.verifying_key());
        let bytes = claims().canonical_bytes();
        let envelope = SignedClaims::new(&kid, &bytes, &sign(&key, &bytes)).to_bytes();
        let keys = vec![(kid.clone(), key.verifying_key())];
        assert_eq!(verify_envelope(&envelope, &keys).unwrap(), claims());

        let mut forged = claims();
        forged.holder_name = "Nguyễn Thị Hồng".into();
        let tampered =
            SignedClaims::new(&kid, &forged.canonical_bytes(), &sign(&key, &bytes)).to_bytes();
        assert_eq!(
            verify_envelope(&tampered, &keys),
            Err(VerifyError::BadSignature)
        );

        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(matches!(
            verify_envelope(
                &envelope,
                &[(key_id(&other.verifying_key()), other.verifying_key())]
            ),
            Err(VerifyError::UnknownKey(_))
        ));
    }

    #[test]
    fn status_shows_revocation_before_expiry() {
        assert_eq!(
            public_status("valid", d(2029, 5, 11), d(2027, 6, 1)),
            "valid"
        );
        assert_eq!(
            public_status("valid", d(2027, 5, 11), d(2027, 6, 1)),
            "expired"
        );
        assert_eq!(
            public_status("revoked", d(2027, 5, 11), d(2027, 6, 1)),
            "revoked"
        );
        assert_eq!(
            public_status("superseded", d(2029, 5, 11), d(2027, 6, 1)),
            "superseded"
        );
    }

    #[test]
    fn issue_date_is_never_before_the_cohort_ends() {
        assert_eq!(issue_date(d(2027, 5, 11), d(2027, 5, 1)), d(2027, 5, 11));
        assert_eq!(issue_date(d(2027, 5, 11), d(2027, 6, 1)), d(2027, 6, 1));
    }
}

/// Properties of the verification code (what people type) and of the signed envelope (what an
/// untrusted file carries).
#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    use crate::domain::proptest_config as config;

    /// A code as issued: 20 bytes in base32, 32 characters.
    fn code() -> impl Strategy<Value = String> {
        proptest::array::uniform20(any::<u8>()).prop_map(|b| data_encoding::BASE32_NOPAD.encode(&b))
    }

    /// The code as someone might type it: any case per character, and dashes or spaces anywhere.
    fn typed(code: String) -> impl Strategy<Value = String> {
        let n = code.len();
        (
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(
                prop_oneof![4 => Just(""), 1 => Just("-"), 1 => Just(" "), 1 => Just(" - ")],
                n + 1,
            ),
        )
            .prop_map(move |(lower, seps)| {
                let mut out = String::from(seps[0]);
                for ((c, low), sep) in code.chars().zip(lower).zip(&seps[1..]) {
                    out.push(if low { c.to_ascii_lowercase() } else { c });
                    out.push_str(sep);
                }
                out
            })
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    /// The unit tests' certificate, with the code and the holder's name a property chose.
    fn claims(code: String, holder_name: String) -> CertificateClaims {
        CertificateClaims {
            certificate_id: Uuid::from_u128(42),
            verification_code: code,
            tier: Tier::MasterTrainer,
            holder_name,
            ..super::tests::claims()
        }
    }

    proptest! {
        #![proptest_config(config(512))]

        #[test]
        fn an_issued_code_normalises_to_itself_and_back_from_its_printed_groups(code in code()) {
            prop_assert_eq!(normalize_code(&code), Some(code.clone()));
            prop_assert_eq!(normalize_code(&group_code(&code)), Some(code.clone()));
            prop_assert_eq!(normalize_code(&code.to_lowercase()), Some(code));
        }

        #[test]
        fn case_spacing_and_dash_variants_normalise_to_one_code(
            (code, variant) in code().prop_flat_map(|c| (Just(c.clone()), typed(c)))
        ) {
            prop_assert_eq!(normalize_code(&variant), Some(code));
        }

        #[test]
        fn any_string_normalises_to_a_well_formed_code_or_to_none(raw in any::<String>()) {
            if let Some(code) = normalize_code(&raw) {
                prop_assert!((26..=64).contains(&code.len()));
                prop_assert!(code.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
                prop_assert_eq!(normalize_code(&code), Some(code.clone()));
            }
        }

        #[test]
        fn a_character_outside_base32_makes_a_code_unreadable(
            code in code(),
            at in 0usize..32,
            c in any::<char>().prop_filter("outside base32 and separators", |c| {
                !(c.is_ascii_alphabetic() || ('2'..='7').contains(c) || matches!(c, '-' | ' '))
            }),
        ) {
            let mut chars: Vec<char> = code.chars().collect();
            chars[at] = c;
            let broken: String = chars.into_iter().collect();
            prop_assert_eq!(normalize_code(&broken), None);
        }

        #[test]
        fn any_bytes_as_an_envelope_are_refused_without_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..512)
        ) {
            let keys = [(key_id(&key().verifying_key()), key().verifying_key())];
            prop_assert!(verify_envelope(&bytes, &keys).is_err());
        }

    }

    // signing and verifying cost milliseconds in a dev build: fewer cases
    proptest! {
        #![proptest_config(config(128))]

        #[test]
        fn a_flipped_bit_in_the_claims_never_verifies(
            code in code(),
            name in "[A-ZÀ-Ỹa-zà-ỹ ]{1,40}",
            bit in any::<prop::sample::Index>(),
        ) {
            let key = key();
            let kid = key_id(&key.verifying_key());
            let bytes = claims(code, name).canonical_bytes();
            let signature = sign(&key, &bytes);
            let mut flipped = bytes.clone();
            let at = bit.index(flipped.len() * 8);
            flipped[at / 8] ^= 1 << (at % 8);
            let envelope = SignedClaims::new(&kid, &flipped, &signature).to_bytes();
            let keys = [(kid, key.verifying_key())];
            prop_assert!(verify_envelope(&envelope, &keys).is_err());
        }

        #[test]
        fn a_flipped_bit_in_the_envelope_never_verifies_other_claims(
            code in code(),
            bit in any::<prop::sample::Index>(),
        ) {
            let key = key();
            let kid = key_id(&key.verifying_key());
            let original = claims(code, "Nguyễn Thị Hằng".into());
            let bytes = original.canonical_bytes();
            let mut envelope = SignedClaims::new(&kid, &bytes, &sign(&key, &bytes)).to_bytes();
            let at = bit.index(envelope.len() * 8);
            envelope[at / 8] ^= 1 << (at % 8);
            let keys = [(kid, key.verifying_key())];
            if let Ok(claims) = verify_envelope(&envelope, &keys) {
                prop_assert_eq!(claims, original);
            }
        }
    }
}
