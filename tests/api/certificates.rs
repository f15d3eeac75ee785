//! Certificates: issuance in finalize, serials, signatures, PDF, verification, revocation,
//! correction, lineage.

use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::harness::{
    assert_status, require_tools, run_tool, spawn_app, spawn_app_on, Answer, TestApp,
};
use crate::training::{chain, enrolled, mark, running_tier2_cohort, score, Chain};

/// A finished tier-2 cohort of BHXH Hà Nội: Hằng, Tuấn and Ngọc complete; nobody else.
pub async fn finished_cohort(app: &TestApp, c: &Chain) -> (Uuid, Answer) {
    let (id, sessions) = running_tier2_cohort(app, c).await;
    let people = [c.hang, c.tuan, c.ngoc];
    let mut enrollments = Vec::new();
    for p in people {
        enrollments.push(enrolled(app, &c.hn, id, p).await);
    }
    for s in sessions {
        let lines: Vec<Value> = enrollments
            .iter()
            .map(|e| json!({"enrollment_id": e, "present": true}))
            .collect();
        mark(app, &c.hn, s, Value::Array(lines)).await;
    }
    for e in &enrollments {
        assert_status(&score(app, &c.hn, *e, 90.0).await, 200);
    }
    let done = app
        .post(
            &format!("/api/v1/cohorts/{id}/finalize"),
            Some(&c.hn),
            &json!({}),
        )
        .await;
    assert_status(&done, 200);
    (id, done)
}

fn serials(answer: &Answer) -> Vec<String> {
    let mut s: Vec<String> = answer.json["issued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

async fn pdf_of(app: &TestApp, token: &str, id: &str) -> Answer {
    let answer = app
        .get(&format!("/api/v1/certificates/{id}/pdf"), Some(token))
        .await;
    assert_status(&answer, 200);
    answer
}

#[actix_web::test]
async fn finalize_issues_one_certificate_per_completed_enrolment_with_gap_free_serials() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (cohort, done) = finished_cohort(&app, &c).await;
    assert_eq!(done.json["completed"], 3);
    assert_eq!(
        serials(&done),
        vec![
            "000001/2027/GCN-BHXH-HN",
            "000002/2027/GCN-BHXH-HN",
            "000003/2027/GCN-BHXH-HN"
        ]
    );
    let first = &done.json["issued"][0];
    assert_eq!(first["tier"], "propagandist");
    // finalised on 1 June 2027 (the tests' clock), after the cohort ended on 11 May
    assert_eq!(first["issued_on"], "2027-06-01");
    assert_eq!(first["valid_until"], "2029-06-01");
    assert_eq!(first["status"], "valid");
    assert_eq!(first["lineage"], json!([c.master_certificate.to_string()]));
    assert_eq!(first["verification_code"].as_str().unwrap().len(), 32);
    // again: nothing new
    let again = app
        .post(
            &format!("/api/v1/cohorts/{cohort}/finalize"),
            Some(&c.hn),
            &json!({}),
        )
        .await;
    assert_eq!(again.json["issued"], json!([]));
    assert_eq!(again.json["already_issued"], 3);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE tier = 'propagandist'"),
        3
    );
}

#[actix_web::test]
async fn a_hundred_concurrent_finalize_calls_issue_each_certificate_once_without_gaps() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    // two cohorts of the same issuer, finalised at the same time, 50 calls each
    let mut cohorts = Vec::new();
    for _ in 0..2 {
        let (id, sessions) = running_tier2_cohort(&app, &c).await;
        let mut enrollments = Vec::new();
        for p in [c.hang, c.tuan, c.ngoc] {
            enrollments.push(enrolled(&app, &c.hn, id, p).await);
        }
        for s in sessions {
            let lines: Vec<Value> = enrollments
                .iter()
                .map(|e| json!({"enrollment_id": e, "present": true}))
                .collect();
            mark(&app, &c.hn, s, Value::Array(lines)).await;
        }
        for e in &enrollments {
            score(&app, &c.hn, *e, 75.0).await;
        }
        cohorts.push(id);
    }
    let empty = json!({});
    // 100 calls on one cohort, and 20 on a second cohort of the same issuer, all at once
    let paths: Vec<String> = (0..120)
        .map(|i| {
            format!(
                "/api/v1/cohorts/{}/finalize",
                cohorts[if i < 100 { 0 } else { 1 }]
            )
        })
        .collect();
    let answers =
        futures_util::future::join_all(paths.iter().map(|p| app.post(p, Some(&c.hn), &empty)))
            .await;
    for a in &answers {
        assert_status(a, 200);
    }
    let issued: usize = answers
        .iter()
        .map(|a| a.json["issued"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(issued, 6, "each certificate issued by exactly one call");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE tier = 'propagandist'"),
        6
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates c JOIN organizations o ON o.id = c.issuer_id \
             WHERE o.code = 'BHXH-HN' AND c.serial_number BETWEEN 1 AND 6"
        ),
        6,
        "serial numbers 1..6, no gap, no duplicate"
    );
}

#[actix_web::test]
async fn revocation_and_supersession_are_visible_in_verification() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let issued = done.json["issued"].as_array().unwrap();
    let (a, b) = (&issued[0], &issued[1]);
    let revoked = app
        .post(
            &format!("/api/v1/certificates/{}/revoke", a["id"].as_str().unwrap()),
            Some(&c.hn),
            &json!({"reason": "Hồ sơ khai man"}),
        )
        .await;
    assert_status(&revoked, 200);
    assert_eq!(revoked.json["status"], "revoked");
    let twice = app
        .post(
            &format!("/api/v1/certificates/{}/revoke", a["id"].as_str().unwrap()),
            Some(&c.hn),
            &json!({"reason": "lần nữa"}),
        )
        .await;
    assert_status(&twice, 409);
    let v = app
        .get(
            &format!(
                "/api/v1/verify/{}",
                a["verification_code"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_status(&v, 200);
    assert_eq!(v.json["status"], "revoked");
    assert_eq!(v.json["revocation_reason"], "Hồ sơ khai man");

    let corrected = app
        .post(
            &format!("/api/v1/certificates/{}/reissue", b["id"].as_str().unwrap()),
            Some(&c.hn),
            &json!({"full_name": "Lê Văn Tuân"}),
        )
        .await;
    assert_status(&corrected, 201);
    assert_eq!(corrected.json["supersedes_id"], b["id"]);
    assert_eq!(corrected.json["holder"]["full_name"], "Lê Văn Tuân");
    assert_eq!(corrected.json["serial"], "000004/2027/GCN-BHXH-HN");
    let old = app
        .get(
            &format!(
                "/api/v1/verify/{}",
                b["verification_code"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(old.json["status"], "superseded");
    assert_eq!(old.json["superseded_by_serial"], "000004/2027/GCN-BHXH-HN");
    let new = app
        .get(
            &format!(
                "/api/v1/verify/{}",
                corrected.json["verification_code"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(new.json["status"], "valid");
    assert_eq!(new.json["holder_name"], "Lê Văn Tuân");
    // both rows stay; nothing was deleted or overwritten
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE tier = 'propagandist'"),
        4
    );
    let again = app
        .post(
            &format!("/api/v1/certificates/{}/reissue", b["id"].as_str().unwrap()),
            Some(&c.hn),
            &json!({}),
        )
        .await;
    assert_status(&again, 409);
}

#[actix_web::test]
async fn verification_shows_only_what_a_verifier_needs() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let code = done.json["issued"][0]["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    let grouped: String = code
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_lowercase())
        .collect::<Vec<_>>()
        .join("-");
    let v = app.get(&format!("/api/v1/verify/{grouped}"), None).await;
    assert_status(&v, 200);
    let keys: Vec<&String> = v.json.as_object().unwrap().keys().collect();
    for forbidden in [
        "date_of_birth",
        "holder_birth_date",
        "national_id",
        "holder",
        "id",
        "holder_id",
    ] {
        assert!(
            !keys.iter().any(|k| k.as_str() == forbidden),
            "{forbidden} leaked: {keys:?}"
        );
    }
    assert!(!String::from_utf8_lossy(&v.body).contains("1985-04-12"));
    assert_status(
        &app.get("/api/v1/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None)
            .await,
        404,
    );
    assert_status(&app.get("/api/v1/verify/not-a-code", None).await, 404);
    let page = app.get(&format!("/verify/{code}"), None).await;
    assert_status(&page, 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("Giấy chứng nhận hợp lệ"));
    assert!(html.contains("000001/2027/GCN-BHXH-HN") || html.contains("/2027/GCN-BHXH-HN"));
}

#[actix_web::test]
async fn public_verification_is_rate_limited() {
    let app = spawn_app().await;
    let mut last = None;
    for _ in 0..61 {
        last = Some(
            app.get("/api/v1/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None)
                .await,
        );
    }
    let last = last.unwrap();
    assert_status(&last, 429);
    assert!(last.header("retry-after").is_some());
}

#[actix_web::test]
async fn lineage_shows_a_revoked_master_trainer_link_and_what_it_affects_downstream() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (cohort, done) = finished_cohort(&app, &c).await;
    let code = done.json["issued"][0]["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    app.revoke_in_database(c.master_certificate, "Không đủ điều kiện");
    let v = app.get(&format!("/api/v1/verify/{code}"), None).await;
    assert_eq!(v.json["status"], "valid");
    let link = &v.json["lineage"][0];
    assert_eq!(link["tier"], "master_trainer");
    assert_eq!(link["status"], "revoked");
    assert_eq!(link["holder_name"], "Nguyễn Văn Giảng");
    let down = app
        .get(
            &format!("/api/v1/certificates/{}/downstream", c.master_certificate),
            Some(&c.admin),
        )
        .await;
    assert_status(&down, 200);
    assert_eq!(down.json["certificates"].as_array().unwrap().len(), 3);
    assert_eq!(down.json["cohorts"][0]["id"], cohort.to_string());
}

#[actix_web::test]
async fn certificate_pdf_is_a_stable_download_with_embedded_subset_fonts_real_text_and_a_qr() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let cert = &done.json["issued"][0];
    let id = cert["id"].as_str().unwrap();
    let first = pdf_of(&app, &c.hr_hn, id).await;
    assert_eq!(
        first.header("content-type").as_deref(),
        Some("application/pdf")
    );
    assert_eq!(
        first.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let disposition = first.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment"));
    assert!(
        disposition.contains("000001-2027-GCN-BHXH-HN.pdf"),
        "{disposition}"
    );
    let second = pdf_of(&app, &c.hang_token, id).await;
    assert_eq!(first.body, second.body, "same claims, same bytes");
    #[derive(diesel::QueryableByName)]
    struct Digest32 {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        pdf_sha256: Vec<u8>,
    }
    let stored: Digest32 = diesel::RunQueryDsl::get_result(
        diesel::sql_query(format!(
            "SELECT pdf_sha256 FROM certificates WHERE id = '{id}'"
        )),
        &mut app.db(),
    )
    .unwrap();
    assert_eq!(stored.pdf_sha256, Sha256::digest(&first.body).to_vec());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cert.pdf");
    std::fs::write(&path, &first.body).unwrap();
    if require_tools(&["pdffonts", "pdftotext"]) {
        let fonts = run_tool("pdffonts", &[&path]);
        let font_lines: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!font_lines.is_empty(), "no fonts in:\n{fonts}");
        for line in &font_lines {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(
                &cols[n - 5..n - 3],
                &["yes", "yes"],
                "font not embedded as a subset: {line}"
            );
        }
        let text = run_tool("pdftotext", &[&"-layout", &path, &"-"]);
        for expected in [
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "GIẤY CHỨNG NHẬN",
            "000001/2027/GCN-BHXH-HN",
            "Trần Văn Ký",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        let holder = cert["holder"]["full_name"].as_str().unwrap().to_uppercase();
        assert!(
            text.contains(&holder),
            "missing holder {holder:?} in:\n{text}"
        );
    }
    if require_tools(&["pdftoppm", "zbarimg"]) {
        let png = dir.path().join("cert");
        run_tool(
            "pdftoppm",
            &[&"-r", &"150", &"-png", &"-singlefile", &path, &png],
        );
        let decoded = run_tool("zbarimg", &[&"-q", &"--raw", &png.with_extension("png")]);
        assert_eq!(
            decoded.trim(),
            format!(
                "https://cascade.test/verify/{}",
                cert["verification_code"].as_str().unwrap()
            )
        );
    }
}

#[actix_web::test]
async fn cohort_zip_holds_one_pdf_per_certificate() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (cohort, _) = finished_cohort(&app, &c).await;
    let zip = app
        .get(
            &format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            Some(&c.hr_hn),
        )
        .await;
    assert_status(&zip, 200);
    assert_eq!(
        zip.header("content-type").as_deref(),
        Some("application/zip")
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.body.clone())).unwrap();
    assert_eq!(archive.len(), 3);
    let name = archive.by_index(0).unwrap().name().unwrap().to_string();
    assert!(name.ends_with("-2027-GCN-BHXH-HN.pdf"), "{name}");
    assert_status(
        &app.get(
            &format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            Some(&c.hang_token),
        )
        .await,
        403,
    );
    assert_status(
        &app.get(
            &format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            Some(&c.hcm),
        )
        .await,
        404,
    );
}

/// Runs `cascade verify` on a file with the keys of an app; (exit success, output).
fn cascade_verify(path: &std::path::Path, keys: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("verify")
        .arg(path)
        .arg("--keys")
        .arg(keys)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[actix_web::test]
async fn cascade_verify_accepts_the_genuine_pdf_and_rejects_a_changed_byte_in_the_claims() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let cert = &done.json["issued"][0];
    let pdf = pdf_of(&app, &c.hn, cert["id"].as_str().unwrap()).await.body;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, &app.get("/api/v1/keys", None).await.body).unwrap();
    let genuine = dir.path().join("genuine.pdf");
    std::fs::write(&genuine, &pdf).unwrap();
    let (ok, out) = cascade_verify(&genuine, &keys);
    assert!(ok, "{out}");
    assert!(out.contains(cert["serial"].as_str().unwrap()), "{out}");

    // change one byte inside the embedded claims: the holder's name in the signed JSON
    let position = find_claims_byte(&pdf).expect("embedded claims found in the PDF");
    let mut forged = pdf.clone();
    forged[position] = if forged[position] == b'A' { b'B' } else { b'A' };
    let forged_path = dir.path().join("forged.pdf");
    std::fs::write(&forged_path, &forged).unwrap();
    let (ok, out) = cascade_verify(&forged_path, &keys);
    assert!(!ok, "a forged PDF passed: {out}");
}

/// Where the base64 claims sit inside the PDF (the middle of the run after `"claims":"`).
fn find_claims_byte(pdf: &[u8]) -> Option<usize> {
    let needle = b"\"claims\":\"";
    let start = pdf.windows(needle.len()).position(|w| w == needle)? + needle.len();
    Some(start + 40)
}

#[actix_web::test]
async fn old_certificates_keep_verifying_after_the_signing_key_rotates() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let id = done.json["issued"][0]["id"].as_str().unwrap().to_string();
    // a second process on the same database with a new signing key
    let rotated = spawn_app_on(
        format!("{}_unused", app.database_name),
        app.database_url.clone(),
    )
    .await;
    let keys = rotated.get("/api/v1/keys", None).await;
    let real_keys = keys
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kid"] != "test-key")
        .count();
    assert_eq!(real_keys, 2, "{}", keys.json);
    let token = rotated.login("nhansu.hn").await;
    let pdf = rotated
        .get(&format!("/api/v1/certificates/{id}/pdf"), Some(&token))
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keys.json"), &keys.body).unwrap();
    std::fs::write(dir.path().join("old.pdf"), &pdf.body).unwrap();
    let (ok, out) = cascade_verify(&dir.path().join("old.pdf"), &dir.path().join("keys.json"));
    assert!(ok, "{out}");
}

#[actix_web::test]
async fn trainees_see_their_own_certificates_and_staff_their_scope() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let mine = app.get("/api/v1/certificates", Some(&c.hang_token)).await;
    assert_status(&mine, 200);
    assert_eq!(mine.json["total"], 1);
    // the three of the cohort, and the master trainer's own (he works at BHXH Hà Nội)
    let hr = app
        .get("/api/v1/certificates?status=valid", Some(&c.hr_hn))
        .await;
    assert_eq!(hr.json["total"], 4);
    let far = app.get("/api/v1/certificates", Some(&c.hcm)).await;
    assert_eq!(far.json["total"], 0);
    let someone_else = done.json["issued"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["holder"]["id"] != c.hang.to_string())
        .unwrap();
    assert_status(
        &app.get(
            &format!(
                "/api/v1/certificates/{}",
                someone_else["id"].as_str().unwrap()
            ),
            Some(&c.hang_token),
        )
        .await,
        404,
    );
    assert_status(
        &app.get(
            &format!(
                "/api/v1/certificates/{}",
                someone_else["id"].as_str().unwrap()
            ),
            Some(&c.hcm),
        )
        .await,
        404,
    );
    let revoke_as_hr = app
        .post(
            &format!(
                "/api/v1/certificates/{}/revoke",
                someone_else["id"].as_str().unwrap()
            ),
            Some(&c.hr_hn),
            &json!({"reason": "x"}),
        )
        .await;
    assert_status(&revoke_as_hr, 403);
}

#[actix_web::test]
async fn a_certificate_for_a_superseded_curriculum_needs_a_refresher() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let id = done.json["issued"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(done.json["issued"][0]["needs_refresher"], false);
    crate::training::newer_curriculum(&app, &c).await;
    let cert = app
        .get(&format!("/api/v1/certificates/{id}"), Some(&c.hr_hn))
        .await;
    assert_eq!(cert.json["needs_refresher"], true);
    assert_eq!(cert.json["status"], "valid");
}
