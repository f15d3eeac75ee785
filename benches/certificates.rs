//! Benchmark: certificates per second on one core, and PDF size.
//!
//! `cargo bench --bench certificates` runs, interleaved so that the shared machine's noise
//! falls on all of them alike:
//! - baseline `sign`: canonical claims encoding + Ed25519 signature (what issuing costs without
//!   a PDF);
//! - `render`: the certificate page (layout, subset fonts, QR, embedded claims);
//! - `issue`: claims + signature + render + SHA-256 of the bytes, i.e. everything `finalize`
//!   does per certificate except the SQL.
//!
//! It prints the median and spread of each, the ratio to the baseline, and the PDF sizes.

use std::time::{Duration, Instant};

use cascade::certificates::issuance::page_from_claims;
use cascade::certificates::pdf;
use cascade::certificates::Issuer;
use cascade::domain::certificates::{
    format_serial, key_id, sign, CertificateClaims, LineageClaim, SignedClaims,
};
use cascade::domain::training::Tier;
use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn claims(n: i32, long: bool) -> CertificateClaims {
    CertificateClaims {
        v: 1,
        certificate_id: Uuid::from_u128(n as u128 + 1),
        serial: format_serial(n, 2027, "BHXH-HN"),
        verification_code: "K7Q2ABCDEFGHIJKLMNOPQRSTUVWXYZ23".into(),
        tier: Tier::Propagandist,
        holder_name: if long {
            "Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Trâm Anh Quỳnh Như".into()
        } else {
            "Nguyễn Thị Hằng".into()
        },
        holder_birth_date: Some(d(1985, 4, 12)),
        holder_workplace: "Ủy ban nhân dân phường Ba Đình".into(),
        course_title: if long {
            "Bồi dưỡng kiến thức, kỹ năng tuyên truyền, vận động người dân tham gia bảo hiểm xã hội tự nguyện và bảo hiểm y tế hộ gia đình theo Luật Bảo hiểm xã hội năm 2024".into()
        } else {
            "Bồi dưỡng tuyên truyền viên về bảo hiểm xã hội".into()
        },
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
            certificate_id: Uuid::from_u128(7),
            serial: "000001/2026/GCN-BNV".into(),
            holder_name: "Nguyễn Văn Giảng".into(),
        }],
        supersedes: None,
    }
}

struct Setup {
    issuer: Issuer,
    key: SigningKey,
    kid: String,
}

fn baseline_sign(s: &Setup, n: i32) -> usize {
    let bytes = claims(n, false).canonical_bytes();
    let signature = sign(&s.key, &bytes);
    SignedClaims::new(&s.kid, &bytes, &signature)
        .to_bytes()
        .len()
}

fn render(s: &Setup, n: i32) -> usize {
    let c = claims(n, false);
    let bytes = c.canonical_bytes();
    let mut page = page_from_claims(&c, &s.issuer);
    page.embedded_claims = SignedClaims::new(&s.kid, &bytes, &[0u8; 64]).to_bytes();
    pdf::render(&page).map(|p| p.len()).unwrap_or(0)
}

fn issue(s: &Setup, n: i32) -> usize {
    let c = claims(n, false);
    let bytes = c.canonical_bytes();
    let signature = sign(&s.key, &bytes);
    let mut page = page_from_claims(&c, &s.issuer);
    page.embedded_claims = SignedClaims::new(&s.kid, &bytes, &signature).to_bytes();
    let pdf = pdf::render(&page).unwrap_or_default();
    std::hint::black_box(Sha256::digest(&pdf));
    pdf.len()
}

/// Times one batch of `batch` calls; the mean duration of a call.
fn sample(f: &dyn Fn(i32) -> usize, batch: i32) -> Duration {
    let start = Instant::now();
    for n in 1..=batch {
        std::hint::black_box(f(n));
    }
    start.elapsed() / batch as u32
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let s = Setup {
        issuer: Issuer {
            signing_key_seed: [42u8; 32],
            public_url: "https://cascade.bhxh.gov.vn".into(),
        },
        kid: key_id(&key.verifying_key()),
        key,
    };
    // warm up: fonts parsed once per process
    render(&s, 1);

    let rounds = 15;
    let (mut base, mut rend, mut full) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        base.push(sample(&|n| baseline_sign(&s, n), 200));
        rend.push(sample(&|n| render(&s, n), 20));
        full.push(sample(&|n| issue(&s, n), 20));
    }
    let report = |name: &str, v: Vec<Duration>, baseline: Option<Duration>| {
        let (min, med, max) = stats(v);
        let per_sec = 1.0 / med.as_secs_f64();
        let ratio = baseline.map_or(String::new(), |b| {
            format!("  ×{:.0} baseline", med.as_secs_f64() / b.as_secs_f64())
        });
        println!(
            "{name:<10} median {:>9.3} ms  (min {:.3}, max {:.3})  {per_sec:>9.0}/s on one core{ratio}",
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
        );
        med
    };
    println!("certificates benchmark: {rounds} interleaved rounds, one thread");
    let b = report("sign", base, None);
    report("render", rend, Some(b));
    report("issue", full, Some(b));

    let sizes = |long: bool| {
        let c = claims(1, long);
        let bytes = c.canonical_bytes();
        let signature = sign(&s.key, &bytes);
        let mut page = page_from_claims(&c, &s.issuer);
        page.embedded_claims = SignedClaims::new(&s.kid, &bytes, &signature).to_bytes();
        pdf::render(&page).map(|p| p.len()).unwrap_or(0)
    };
    println!(
        "pdf size   {} bytes (typical), {} bytes (60-char name, 160-char title)",
        sizes(false),
        sizes(true)
    );
}
