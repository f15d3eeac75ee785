//! Benchmark: certificates per second on one core, and PDF size, against a Python generator.
//!
//! `cargo bench --bench certificates` runs, interleaved so that the shared machine's noise
//! falls on all of them alike, and pinned to one core (`taskset`, when the machine has it):
//! - `sign`: canonical claims encoding + Ed25519 signature (what issuing costs without a PDF);
//! - `render`: the certificate page (layout, subset fonts, QR, embedded claims);
//! - `issue`: claims + signature + render + SHA-256 of the bytes, i.e. everything `finalize`
//!   does per certificate except the SQL;
//! - `reportlab`: `../shared/bench/reportlab_baseline.py N --segno --mem`, the same page content
//!   made with reportlab + segno in one Python process (`CASCADE_BASELINE_SCRIPT` overrides the
//!   path). It needs `pip install reportlab segno`; without them the bench says so and reports
//!   the Rust figures alone.
//!
//! It prints the median and spread of each, the render rate as a multiple of reportlab's from
//! the same run, and the PDF sizes of both.

use std::path::PathBuf;
use std::process::Command;
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

/// The core both the Rust rounds and the Python baseline run on.
const CORE: &str = "1";
const ROUNDS: usize = 9;
/// Certificates per Python round: about a second of its time.
const BASELINE_BATCH: usize = 40;

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

/// Pins this process to [`CORE`], so the Rust rounds and the Python baseline (started under
/// `taskset` on the same core) compete for the same share of the shared machine.
fn pin_to_one_core() -> bool {
    Command::new("taskset")
        .args(["-p", "-c", CORE, &std::process::id().to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The reportlab generator, if it and its modules are there.
struct Baseline {
    script: PathBuf,
    pinned: bool,
}

/// One baseline round: the mean time per certificate and the PDF size it reports.
struct BaselineRound {
    per_cert: Duration,
    size: Option<(u64, u64)>,
}

impl Baseline {
    fn find(pinned: bool) -> Result<Self, String> {
        let script = std::env::var_os("CASCADE_BASELINE_SCRIPT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../shared/bench/reportlab_baseline.py")
            });
        if !script.is_file() {
            return Err(format!(
                "the baseline script {} is not there (set CASCADE_BASELINE_SCRIPT)",
                script.display()
            ));
        }
        let import = Command::new("python3")
            .args(["-c", "import reportlab, segno"])
            .output()
            .map_err(|e| format!("python3 cannot be run ({e})"))?;
        if !import.status.success() {
            return Err(
                "python3 cannot import reportlab and segno: `pip install reportlab segno`"
                    .to_string(),
            );
        }
        Ok(Self { script, pinned })
    }

    fn round(&self, n: usize) -> Result<BaselineRound, String> {
        let mut command = if self.pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", CORE, "python3"]);
            c
        } else {
            Command::new("python3")
        };
        let out = command
            .arg(&self.script)
            .arg(n.to_string())
            .args(["--segno", "--mem"])
            .output()
            .map_err(|e| format!("the baseline did not start: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            return Err(format!(
                "the baseline failed: {}{}",
                text,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // "reportlab: n=40 … certs/s=48.1  mean=20.80 ms/cert … size(bytes) min=49012 max=49020"
        let field = |key: &str| -> Option<&str> {
            let start = text.find(key)? + key.len();
            text[start..].split_whitespace().next()
        };
        let rate: f64 = field("certs/s=")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no certs/s= in the baseline's output: {text}"))?;
        let size = field("min=")
            .and_then(|v| v.parse().ok())
            .zip(field("max=").and_then(|v| v.parse().ok()));
        Ok(BaselineRound {
            per_cert: Duration::from_secs_f64(1.0 / rate),
            size,
        })
    }
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
    let pinned = pin_to_one_core();
    let baseline = Baseline::find(pinned);
    if let Err(why) = &baseline {
        println!("reportlab baseline skipped: {why}");
    }
    // warm up: fonts read and prepared once per process, as in the service
    render(&s, 1);

    let (mut base, mut rend, mut full, mut python) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut python_size = None;
    for _ in 0..ROUNDS {
        base.push(sample(&|n| baseline_sign(&s, n), 500));
        rend.push(sample(&|n| render(&s, n), 200));
        full.push(sample(&|n| issue(&s, n), 200));
        if let Ok(b) = &baseline {
            match b.round(BASELINE_BATCH) {
                Ok(round) => {
                    python.push(round.per_cert);
                    python_size = round.size.or(python_size);
                }
                Err(why) => println!("reportlab round failed: {why}"),
            }
        }
    }

    let report = |name: &str, v: Vec<Duration>| {
        let (min, med, max) = stats(v);
        println!(
            "{name:<10} median {:>9.3} ms  (min {:.3}, max {:.3})  {:>9.0}/s",
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            1.0 / med.as_secs_f64(),
        );
        med
    };
    println!(
        "certificates benchmark: {ROUNDS} interleaved rounds, one thread, {}",
        if pinned {
            format!("pinned to core {CORE} (taskset)")
        } else {
            "not pinned (no taskset)".to_string()
        }
    );
    report("sign", base);
    let render_median = report("render", rend);
    report("issue", full);
    if !python.is_empty() {
        let python_median = report("reportlab", python);
        println!(
            "render is ×{:.1} reportlab's rate (same run; reportlab {BASELINE_BATCH} per round, --segno --mem)",
            python_median.as_secs_f64() / render_median.as_secs_f64()
        );
    }

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
    if let Some((min, max)) = python_size {
        println!("reportlab  {min}–{max} bytes");
    }
}
