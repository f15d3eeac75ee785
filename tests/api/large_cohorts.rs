//! Large cohorts: a whole cohort's attendance in one request, finalising hundreds of people at
//! once (serials, digests), and their certificates ZIP streamed entry by entry.

use std::collections::HashMap;
use std::io::Read;

use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::harness::{assert_status, spawn_app, Answer, TestApp};
use crate::training::{assign, chain, cohort, session, set_status, Chain};

/// `n` trainees of the ward in Hà Nội, inserted at once (the harness adds people one by one).
fn trainees(app: &TestApp, prefix: &str, n: usize) -> Vec<Uuid> {
    use cascade::db::schema::users;
    let unit = app.org("HN-BADINH");
    let rows: Vec<_> = (0..n)
        .map(|i| {
            let name = format!("Trần Thị Học Viên {prefix} {i:04}");
            (
                users::username.eq(format!("{prefix}.{i:04}")),
                users::name_search.eq(cascade::domain::people::search_fold(&name)),
                users::full_name.eq(name),
                users::organization_id.eq(unit),
                users::category.eq("civil_servant"),
            )
        })
        .collect();
    diesel::insert_into(users::table)
        .values(rows)
        .returning(users::id)
        .get_results(&mut app.db())
        .expect("insert trainees")
}

/// A tier-2 cohort of BHXH Hà Nội for `n` people, taught by the master trainer, in progress,
/// with two sessions of 4 hours; everyone enrolled (by SQL: enrolment is not what these tests
/// are about) with a passing score. The cohort, its sessions and the enrolments, in the order of
/// the people.
async fn large_cohort(app: &TestApp, c: &Chain, n: usize) -> (Uuid, [Uuid; 2], Vec<Uuid>) {
    use cascade::db::schema::enrollments;
    let id = cohort(app, &c.hn, c.tier2, "BHXH-HN", n as i32).await;
    assert_status(&assign(app, &c.hn, id, c.master).await, 201);
    let sessions = [
        session(app, &c.hn, id, 10, 8, 12).await,
        session(app, &c.hn, id, 11, 8, 12).await,
    ];
    assert_status(&set_status(app, &c.hn, id, "open").await, 200);
    assert_status(&set_status(app, &c.hn, id, "in_progress").await, 200);
    let rows: Vec<_> = trainees(app, &format!("hv{}", &id.simple().to_string()[..6]), n)
        .into_iter()
        .map(|person| {
            (
                enrollments::cohort_id.eq(id),
                enrollments::user_id.eq(person),
                enrollments::score.eq(Some(80.0)),
            )
        })
        .collect();
    let enrolled: Vec<Uuid> = diesel::insert_into(enrollments::table)
        .values(rows)
        .returning(enrollments::id)
        .get_results(&mut app.db())
        .expect("enrol");
    (id, sessions, enrolled)
}

fn attendance_lines(enrolled: &[Uuid], present: impl Fn(usize) -> bool) -> Value {
    Value::Array(
        enrolled
            .iter()
            .enumerate()
            .map(|(i, e)| json!({"enrollment_id": e, "present": present(i)}))
            .collect(),
    )
}

async fn put_attendance(app: &TestApp, token: &str, session: Uuid, lines: &Value) -> Answer {
    app.put(
        &format!("/api/v1/sessions/{session}/attendance"),
        Some(token),
        lines,
    )
    .await
}

/// A finished cohort of `n` people in which every tenth person missed the second session (and
/// so fails); the finalize answer.
async fn finalised_cohort(app: &TestApp, c: &Chain, n: usize) -> (Uuid, Answer) {
    let (id, [first, second], enrolled) = large_cohort(app, c, n).await;
    let all = put_attendance(app, &c.hn, first, &attendance_lines(&enrolled, |_| true)).await;
    assert_status(&all, 200);
    let most = attendance_lines(&enrolled, |i| i % 10 != 9);
    assert_status(&put_attendance(app, &c.hn, second, &most).await, 200);
    // a debug build renders slowly, and the whole suite shares the machine: more time than the
    // harness's client allows
    let mut res = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .finish()
        .post(app.url(&format!("/api/v1/cohorts/{id}/finalize")))
        .bearer_auth(&c.hn)
        .send_json(&json!({}))
        .await
        .expect("finalize");
    let body = res.body().limit(16 << 20).await.expect("finalize answer");
    let done = Answer {
        status: res.status(),
        headers: res.headers().clone(),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
    };
    assert_status(&done, 200);
    (id, done)
}

/// Each certificate of a cohort: id → (serial, recorded PDF digest).
fn recorded(app: &TestApp, cohort: Uuid) -> HashMap<Uuid, (String, Option<Vec<u8>>)> {
    use cascade::db::schema::certificates;
    certificates::table
        .filter(certificates::cohort_id.eq(cohort))
        .select((
            certificates::id,
            certificates::serial,
            certificates::pdf_sha256,
        ))
        .load::<(Uuid, String, Option<Vec<u8>>)>(&mut app.db())
        .expect("certificates")
        .into_iter()
        .map(|(id, serial, sha)| (id, (serial, sha)))
        .collect()
}

#[actix_web::test]
async fn a_whole_cohorts_attendance_fits_in_one_request() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, [first, second], enrolled) = large_cohort(&app, &c, 1000).await;
    let lines = attendance_lines(&enrolled, |i| i % 3 != 0);
    assert!(
        serde_json::to_vec(&lines).unwrap().len() > 64 * 1024,
        "the body is past the 64 KiB of other routes"
    );
    let answer = put_attendance(&app, &c.hn, first, &lines).await;
    assert_status(&answer, 200);
    let items = answer.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1000);
    let present = items.iter().filter(|l| l["present"] == true).count();
    assert_eq!(present, 666);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM attendance WHERE session_id = '{first}' AND present"
        )),
        666
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'attendance_recorded' \
             AND object_id = '{first}' AND (details->>'lines')::int = 1000"
        )),
        1
    );

    // one bad line among a thousand: 400 naming it, and nothing recorded
    let mut bad = attendance_lines(&enrolled, |_| true);
    bad[500]["enrollment_id"] = json!(Uuid::new_v4());
    let answer = put_attendance(&app, &c.hn, second, &bad).await;
    assert_status(&answer, 400);
    assert_eq!(answer.error_code(), "validation_failed");
    assert_eq!(
        answer.json["error"]["details"][0]["field"],
        "[500].enrollment_id"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM attendance WHERE session_id = '{second}'"
        )),
        0,
        "no partial write"
    );

    // a cohort at the largest capacity fits the body limit: read, then judged line by line
    let strangers: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
    let answer = put_attendance(&app, &c.hn, second, &attendance_lines(&strangers, |_| true)).await;
    assert_status(&answer, 400);
    assert_eq!(answer.error_code(), "validation_failed");
    // one line more than a cohort can hold is refused as such
    let too_many: Vec<Uuid> = (0..10_001).map(|_| Uuid::new_v4()).collect();
    let answer = put_attendance(&app, &c.hn, second, &attendance_lines(&too_many, |_| true)).await;
    assert_status(&answer, 400);
    assert_eq!(answer.json["error"]["details"][0]["field"], "body");
    assert!(answer.json["error"]["message"].as_str().is_some());

    // past the route's own limit: 413 with the JSON error body
    let huge = format!("[{}]", " ".repeat(1_400_000));
    let mut res = app
        .client
        .put(app.url(&format!("/api/v1/sessions/{second}/attendance")))
        .bearer_auth(&c.hn)
        .insert_header(("content-type", "application/json"))
        .send_body(huge.clone())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let body: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    // and every other JSON body keeps its 64 KiB
    let mut res = app
        .client
        .put(app.url(&format!("/api/v1/enrollments/{}/score", enrolled[0])))
        .bearer_auth(&c.hn)
        .insert_header(("content-type", "application/json"))
        .send_body(format!("{{\"score\": 80{}}}", " ".repeat(70 * 1024)))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let body: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[actix_web::test]
async fn finalising_a_large_cohort_issues_gap_free_serials_and_digests_matching_downloads() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (first, done) = finalised_cohort(&app, &c, 150).await;
    assert_eq!(done.json["completed"], 135);
    assert_eq!(done.json["failed"], 15);
    let issued = done.json["issued"].as_array().unwrap();
    assert_eq!(issued.len(), 135);
    // a second cohort of the same issuer goes on from the first one's last number
    let (second, more) = finalised_cohort(&app, &c, 20).await;
    assert_eq!(more.json["issued"].as_array().unwrap().len(), 18);

    let mut serials: Vec<String> = issued
        .iter()
        .chain(more.json["issued"].as_array().unwrap())
        .map(|c| c["serial"].as_str().unwrap().to_string())
        .collect();
    serials.sort();
    let expected: Vec<String> = (1..=153)
        .map(|n| format!("{n:06}/2027/GCN-BHXH-HN"))
        .collect();
    assert_eq!(serials, expected, "serials 1..153 of the issuer, no gap");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM enrollments WHERE cohort_id = '{first}' \
             AND status = 'completed' AND attendance_percent = 100"
        )),
        135
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM enrollments WHERE cohort_id = '{first}' \
             AND status = 'failed' AND attendance_percent = 50"
        )),
        15
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM certificate_lineage l JOIN certificates c \
             ON c.id = l.certificate_id WHERE c.cohort_id = '{first}' \
             AND l.master_certificate_id = '{}'",
            c.master_certificate
        )),
        135,
        "every certificate names the instructor's master-trainer certificate"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'cohort_finalized' \
             AND object_id = '{first}' AND (details->>'issued')::int = 135"
        )),
        1
    );

    // every digest was recorded after the commit, and every download matches it
    let certificates = recorded(&app, first);
    assert_eq!(certificates.len(), 135);
    for (id, (serial, sha)) in &certificates {
        let sha = sha
            .as_ref()
            .unwrap_or_else(|| panic!("{serial} has no digest"));
        let pdf = app
            .get(&format!("/api/v1/certificates/{id}/pdf"), Some(&c.hr_hn))
            .await;
        assert_status(&pdf, 200);
        assert_eq!(
            Sha256::digest(&pdf.body).to_vec(),
            *sha,
            "{serial}: the download matches the digest recorded at issue"
        );
    }
    assert!(recorded(&app, second)
        .values()
        .all(|(_, sha)| sha.is_some()));
}

#[actix_web::test]
async fn digests_a_crash_left_unrecorded_are_recorded_at_start_and_match_downloads() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (id, done) = finalised_cohort(&app, &c, 30).await;
    assert_eq!(done.json["issued"].as_array().unwrap().len(), 27);
    // as if the process had died between the issuing commit and its digests (a trigger keeps a
    // recorded digest from changing: this connection skips triggers to forge the crash)
    let mut conn = app.db();
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(format!(
        "UPDATE certificates SET pdf_sha256 = NULL WHERE cohort_id = '{id}'"
    ))
    .execute(&mut conn)
    .unwrap();
    drop(conn);
    let recorded_now = cascade::service::certification::record_missing_digests(
        &cascade::db::Db::connect(&app.database_url, 2).unwrap(),
        app.issuer.clone(),
    )
    .await
    .unwrap();
    assert_eq!(recorded_now, 27);
    let certificates = recorded(&app, id);
    for (cert, (serial, sha)) in &certificates {
        let sha = sha
            .as_ref()
            .unwrap_or_else(|| panic!("{serial} still has no digest"));
        let pdf = app
            .get(&format!("/api/v1/certificates/{cert}/pdf"), Some(&c.hr_hn))
            .await;
        assert_status(&pdf, 200);
        assert_eq!(Sha256::digest(&pdf.body).to_vec(), *sha, "{serial}");
    }
    // nothing left to do the next time
    let again = cascade::service::certification::record_missing_digests(
        &cascade::db::Db::connect(&app.database_url, 2).unwrap(),
        app.issuer.clone(),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}

#[actix_web::test]
async fn cohort_zip_streams_every_certificate_byte_identical_to_its_download() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    // 45 certificates: past two of the batches the ZIP is written in
    let (id, done) = finalised_cohort(&app, &c, 50).await;
    assert_eq!(done.json["issued"].as_array().unwrap().len(), 45);
    let path = format!("/api/v1/cohorts/{id}/certificates.zip");
    let zip = app.get(&path, Some(&c.hr_hn)).await;
    assert_status(&zip, 200);
    assert_eq!(
        zip.header("content-type").as_deref(),
        Some("application/zip")
    );
    assert_eq!(
        zip.header("content-disposition").as_deref(),
        Some(format!("attachment; filename=\"certificates-{id}.zip\"").as_str())
    );
    assert_eq!(
        zip.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        zip.header("content-length"),
        None,
        "streamed as it is written"
    );

    let certificates = recorded(&app, id);
    let mut by_serial: Vec<(&String, &Uuid, &Option<Vec<u8>>)> = certificates
        .iter()
        .map(|(id, (serial, sha))| (serial, id, sha))
        .collect();
    by_serial.sort();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.body.clone())).unwrap();
    assert_eq!(archive.len(), 45);
    for (i, (serial, cert, sha)) in by_serial.into_iter().enumerate() {
        let mut entry = archive.by_index(i).unwrap();
        assert_eq!(
            entry.name().unwrap(),
            cascade::domain::certificates::serial_file_name(serial),
            "entries in serial order"
        );
        assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let pdf = app
            .get(&format!("/api/v1/certificates/{cert}/pdf"), Some(&c.hr_hn))
            .await;
        assert_status(&pdf, 200);
        assert!(
            bytes == pdf.body,
            "{serial}: the ZIP holds the download's bytes"
        );
        assert_eq!(
            Some(Sha256::digest(&bytes).to_vec()),
            *sha,
            "{serial}: and the digest recorded at issue"
        );
    }

    // stored PDFs are not gzipped on the way, whatever the client accepts: the same bytes again
    let mut res = app
        .client
        .get(app.url(&path))
        .bearer_auth(&c.hr_hn)
        .insert_header(("accept-encoding", "gzip"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_ne!(
        res.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let again = res.body().limit(50 << 20).await.unwrap();
    assert!(again == zip.body, "the same archive, byte for byte");

    // refusals come before the first byte, with the JSON error body: the instructor sees the
    // cohort but is not staff
    let instructor = app.login("giang.nv").await;
    let refused = app.get(&path, Some(&instructor)).await;
    assert_status(&refused, 403);
    assert_eq!(refused.error_code(), "forbidden");
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'access_denied' \
             AND object_id = 'download_cohort_certificates'"
        ),
        1
    );
    let elsewhere = app.get(&path, Some(&c.hcm)).await;
    assert_status(&elsewhere, 404);
    assert_eq!(elsewhere.error_code(), "not_found");
    let unknown = app
        .get(
            &format!("/api/v1/cohorts/{}/certificates.zip", Uuid::new_v4()),
            Some(&c.hr_hn),
        )
        .await;
    assert_status(&unknown, 404);
    assert_eq!(
        unknown.header("content-type").as_deref(),
        Some("application/json")
    );
}
