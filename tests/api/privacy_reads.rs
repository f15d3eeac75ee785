//! Reads of personal data accounted for: exports of people and certificates downloaded by
//! someone other than their holder are audit events; an administrator lists the trail; a person
//! gets everything held about them, and who saw it, and nothing about anyone else.

use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, spawn_app, TestApp};
use crate::pages::{get_page, sign_in};
use crate::training::{chain, Chain};

/// One stored audit event, as a test checks it.
#[derive(Debug, Queryable)]
struct Event {
    actor_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    object_type: String,
    object_id: Option<String>,
    address: Option<String>,
    details: Value,
}

/// The events with this action, in the order they were written.
fn events(app: &TestApp, action: &str) -> Vec<Event> {
    use cascade::db::schema::audit_events as a;
    a::table
        .filter(a::action.eq(action))
        .order(a::id.asc())
        .select((
            a::actor_id,
            a::subject_id,
            a::object_type,
            a::object_id,
            a::address,
            a::details,
        ))
        .load(&mut app.db())
        .expect("audit events")
}

fn user_id(app: &TestApp, username: &str) -> Uuid {
    use cascade::db::schema::users;
    users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(&mut app.db())
        .expect("user")
}

/// (certificate id, serial, verification code) of each certificate a person holds.
fn certificates_of(app: &TestApp, holder: Uuid) -> Vec<(Uuid, String, String)> {
    use cascade::db::schema::certificates as c;
    c::table
        .filter(c::holder_id.eq(holder))
        .select((c::id, c::serial, c::verification_code))
        .load(&mut app.db())
        .expect("certificates")
}

fn enrollments_of(app: &TestApp, person: Uuid) -> Vec<Uuid> {
    use cascade::db::schema::enrollments as e;
    e::table
        .filter(e::user_id.eq(person))
        .select(e::id)
        .load(&mut app.db())
        .expect("enrollments")
}

/// A chain with its tier-2 cohort finished: Hằng, Tuấn and Ngọc hold a certificate each.
async fn finished(app: &TestApp) -> (Chain, Uuid) {
    let c = chain(app).await;
    let (cohort, _) = finished_cohort(app, &c).await;
    (c, cohort)
}

#[actix_web::test]
async fn a_people_export_is_an_audit_event() {
    let app = spawn_app().await;
    let (_c, cohort) = finished(&app).await;
    let hr = sign_in(&app, "nhansu.hn").await;
    let csv = get_page(
        &app,
        &format!("/certificates/export.csv?q=nguyen+van&cohort_id={cohort}&status=valid"),
        &hr,
    )
    .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let xlsx = get_page(&app, "/certificates/export.xlsx", &hr).await;
    assert_eq!(xlsx.status, 200);

    let exported = events(&app, "people_exported");
    assert_eq!(exported.len(), 2, "one event per export: {exported:?}");
    let hr_id = user_id(&app, "nhansu.hn");
    let first = &exported[0];
    assert_eq!(first.actor_id, Some(hr_id));
    assert_eq!(
        first.subject_id, None,
        "a list is about no one in particular"
    );
    assert!(first.address.is_some());
    assert_eq!(first.details["list"], "certificates");
    assert_eq!(first.details["format"], "csv");
    assert_eq!(first.details["rows"], 3);
    assert_eq!(first.details["filters"]["cohort_id"], json!(cohort));
    assert_eq!(first.details["filters"]["status"], "valid");
    // the words searched for may be a name: only that there were some
    assert_eq!(first.details["filters"]["q"], true);
    assert!(!first.details.to_string().contains("nguyen"));
    assert_eq!(exported[1].details["format"], "xlsx");
    // the chain's master trainer's certificate is in HR's scope too
    assert_eq!(exported[1].details["rows"], 4);
    for e in &exported {
        let details = e.details.to_string();
        for personal in ["Nguyễn", "hang.nt"] {
            assert!(!details.contains(personal), "{personal} in {details}");
        }
    }

    // a refused export writes nothing
    let trainee = sign_in(&app, "hang.nt").await;
    let refused = get_page(&app, "/certificates/export.csv", &trainee).await;
    assert_eq!(refused.status, 403);
    assert_eq!(events(&app, "people_exported").len(), 2);
}

#[actix_web::test]
async fn downloading_someone_elses_certificate_is_an_audit_event() {
    let app = spawn_app().await;
    let (c, _) = finished(&app).await;
    let (certificate, serial, _) = certificates_of(&app, c.hang).remove(0);
    let pdf = app
        .get(
            &format!("/api/v1/certificates/{certificate}/pdf"),
            Some(&c.hr_hn),
        )
        .await;
    assert_status(&pdf, 200);
    // the page's link is the same path with the session cookie
    let hr = sign_in(&app, "nhansu.hn").await;
    let linked = get_page(
        &app,
        &format!("/api/v1/certificates/{certificate}/pdf"),
        &hr,
    )
    .await;
    assert_eq!(linked.status, 200);

    let downloads = events(&app, "certificate_downloaded");
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    let hr_id = user_id(&app, "nhansu.hn");
    for d in &downloads {
        assert_eq!(d.actor_id, Some(hr_id));
        assert_eq!(d.subject_id, Some(c.hang), "about the holder");
        assert_eq!(d.object_type, "certificate");
        assert_eq!(
            d.object_id.as_deref(),
            Some(certificate.to_string().as_str())
        );
        assert_eq!(d.details["serial"], serial.as_str());
        assert!(d.address.is_some());
    }

    // out of scope: 404, and nothing read, nothing recorded
    let far = app
        .get(
            &format!("/api/v1/certificates/{certificate}/pdf"),
            Some(&c.hcm),
        )
        .await;
    assert_status(&far, 404);
    assert_eq!(events(&app, "certificate_downloaded").len(), 2);
}

#[actix_web::test]
async fn downloading_ones_own_certificate_is_not() {
    let app = spawn_app().await;
    let (c, _) = finished(&app).await;
    let (certificate, _, _) = certificates_of(&app, c.hang).remove(0);
    let pdf = app
        .get(
            &format!("/api/v1/certificates/{certificate}/pdf"),
            Some(&c.hang_token),
        )
        .await;
    assert_status(&pdf, 200);
    let own = sign_in(&app, "hang.nt").await;
    let linked = get_page(
        &app,
        &format!("/api/v1/certificates/{certificate}/pdf"),
        &own,
    )
    .await;
    assert_eq!(linked.status, 200);
    assert!(events(&app, "certificate_downloaded").is_empty());
}

#[actix_web::test]
async fn a_cohort_zip_records_a_read_per_certificate() {
    let app = spawn_app().await;
    let (c, cohort) = finished(&app).await;
    let zip = app
        .get(
            &format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            Some(&c.hr_hn),
        )
        .await;
    assert_status(&zip, 200);

    let downloads = events(&app, "certificate_downloaded");
    assert_eq!(downloads.len(), 3, "{downloads:?}");
    let hr_id = user_id(&app, "nhansu.hn");
    let mut subjects: Vec<Uuid> = downloads.iter().filter_map(|d| d.subject_id).collect();
    subjects.sort();
    let mut holders = vec![c.hang, c.tuan, c.ngoc];
    holders.sort();
    assert_eq!(subjects, holders, "one event per holder");
    for d in &downloads {
        assert_eq!(d.actor_id, Some(hr_id));
        assert_eq!(d.details["cohort_id"], json!(cohort));
        let holder = d.subject_id.unwrap();
        let (id, serial, _) = certificates_of(&app, holder).remove(0);
        assert_eq!(d.object_id.as_deref(), Some(id.to_string().as_str()));
        assert_eq!(d.details["serial"], serial.as_str());
    }

    // refused (a trainee) or out of scope: nothing recorded
    let refused = app
        .get(
            &format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            Some(&c.hang_token),
        )
        .await;
    assert_status(&refused, 403);
    let far = app
        .get(
            &format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            Some(&c.hcm),
        )
        .await;
    assert_status(&far, 404);
    assert_eq!(events(&app, "certificate_downloaded").len(), 3);
}

#[actix_web::test]
async fn only_an_administrator_lists_the_audit() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let listed = app.get("/api/v1/audit", Some(&c.admin)).await;
    assert_status(&listed, 200);
    assert!(
        listed.json["total"].as_i64().unwrap() > 0,
        "the chain's logins"
    );
    assert_eq!(listed.json["page"], 1);
    assert_eq!(listed.json["per_page"], 20);

    for token in [&c.hn, &c.hr_hn, &c.hang_token] {
        let refused = app.get("/api/v1/audit", Some(token)).await;
        assert_status(&refused, 403);
        assert_eq!(refused.error_code(), "forbidden");
    }
    assert_status(&app.get("/api/v1/audit", None).await, 401);
    let denied = events(&app, "access_denied");
    assert_eq!(
        denied
            .iter()
            .filter(|e| e.object_id.as_deref() == Some("list_audit_events"))
            .count(),
        3,
        "each refusal recorded"
    );

    // the page too: administrators only
    let admin = sign_in(&app, "quantri").await;
    let home = get_page(&app, "/", &admin).await;
    assert!(home.body.contains("href=\"/audit\""));
    let page = get_page(&app, "/audit?action=login", &admin).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>Nhật ký truy cập</h1>"));
    assert!(page.body.contains("Nguyễn Văn hang nt"), "{}", page.body);
    let wrong = get_page(&app, "/audit?from=h%C3%B4m+qua", &admin).await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("Thời điểm phải là một ngày"),
        "{}",
        wrong.body
    );
    let wrong_id = get_page(&app, "/audit?subject_id=ai-do", &admin).await;
    assert_eq!(wrong_id.status, 400);
    assert!(wrong_id.body.contains("Mã người phải là một mã định danh"));
    let trainee = sign_in(&app, "hang.nt").await;
    assert_eq!(get_page(&app, "/audit", &trainee).await.status, 403);
    assert_eq!(
        get_page(&app, "/audit?subject_id=ai-do", &trainee)
            .await
            .status,
        403,
        "refused before the filters are judged"
    );
}

#[actix_web::test]
async fn the_audit_filters_by_subject_actor_action_and_period() {
    let app = spawn_app().await;
    let (c, _) = finished(&app).await;
    let (hang_certificate, _, _) = certificates_of(&app, c.hang).remove(0);
    let (tuan_certificate, _, _) = certificates_of(&app, c.tuan).remove(0);
    for (certificate, token) in [(hang_certificate, &c.hr_hn), (tuan_certificate, &c.hn)] {
        let pdf = app
            .get(
                &format!("/api/v1/certificates/{certificate}/pdf"),
                Some(token),
            )
            .await;
        assert_status(&pdf, 200);
    }
    // an event of long ago, about Hằng
    let mut conn = app.db();
    diesel::sql_query(format!(
        "INSERT INTO audit_events (occurred_at, actor_id, action, object_type, object_id, subject_id, details)
         VALUES ('2020-03-15T10:00:00Z', NULL, 'certificate_downloaded', 'certificate', '{hang_certificate}', '{}', '{{}}')",
        c.hang
    ))
    .execute(&mut conn)
    .unwrap();
    let hr_id = user_id(&app, "nhansu.hn");
    let hn_id = user_id(&app, "dieuphoi.hn");

    let list = |query: String| {
        let app = &app;
        let admin = c.admin.clone();
        async move {
            let answer = app
                .get(&format!("/api/v1/audit?{query}"), Some(&admin))
                .await;
            assert_status(&answer, 200);
            answer.json
        }
    };

    let about_hang = list(format!("subject_id={}", c.hang)).await;
    let items = about_hang["items"].as_array().unwrap();
    assert!(items.len() >= 2);
    assert_eq!(about_hang["total"].as_i64().unwrap(), items.len() as i64);
    assert!(items.iter().all(|i| i["subject"]["id"] == json!(c.hang)));
    assert!(items
        .iter()
        .all(|i| i["subject"]["full_name"] == "Nguyễn Văn hang nt"));
    // newest first: the event of 2020 last
    assert!(items.last().unwrap()["at"]
        .as_str()
        .unwrap()
        .starts_with("2020-03-15T10:00:00"));
    let times: Vec<&str> = items.iter().map(|i| i["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);

    let by_hr = list(format!("actor_id={hr_id}&action=certificate_downloaded")).await;
    let items = by_hr["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{by_hr}");
    let item = &items[0];
    assert_eq!(
        item["actor"],
        json!({"id": hr_id, "full_name": "Nguyễn Văn nhansu hn"})
    );
    assert_eq!(item["action"], "certificate_downloaded");
    assert_eq!(item["subject"]["id"], json!(c.hang));
    assert!(item["address"].is_string());

    let downloads = list("action=certificate_downloaded".into()).await;
    assert_eq!(downloads["total"], 3);
    let by_hn = list(format!("actor_id={hn_id}&action=certificate_downloaded")).await;
    assert_eq!(by_hn["total"], 1);
    assert_eq!(by_hn["items"][0]["subject"]["id"], json!(c.tuan));

    // the period: dates (whole days, UTC) or instants
    let old = list("action=certificate_downloaded&from=2020-03-15&to=2020-03-15".into()).await;
    assert_eq!(old["total"], 1);
    assert!(old["items"][0]["actor"].is_null());
    let before =
        list("action=certificate_downloaded&from=2020-03-15T10:00:01Z&to=2021-01-01".into()).await;
    assert_eq!(before["total"], 0);
    let at_the_instant = list(
        "action=certificate_downloaded&from=2020-03-15T17:00:00%2B07:00&to=2020-03-15T10:00:00Z"
            .into(),
    )
    .await;
    assert_eq!(at_the_instant["total"], 1);
    let recent = list("action=certificate_downloaded&from=2021-01-01".into()).await;
    assert_eq!(recent["total"], 2);

    // paging
    let paged = list("action=certificate_downloaded&per_page=2&page=2".into()).await;
    assert_eq!(paged["total"], 3);
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged["page"], 2);
    assert_eq!(paged["per_page"], 2);

    // bad filters: the error body, field by field
    for query in [
        "from=yesterday",
        "from=2027-06-02&to=2027-06-01",
        "action=DROP%20TABLE",
        "per_page=1000",
    ] {
        let answer = app
            .get(&format!("/api/v1/audit?{query}"), Some(&c.admin))
            .await;
        assert_status(&answer, 400);
        assert_eq!(answer.error_code(), "validation_failed", "{query}");
    }
    let malformed = app
        .get("/api/v1/audit?subject_id=not-an-id", Some(&c.admin))
        .await;
    assert_status(&malformed, 400);
}

#[actix_web::test]
async fn my_data_holds_everything_about_me_and_nothing_about_others() {
    let app = spawn_app().await;
    let (c, cohort) = finished(&app).await;
    for (person, national_id, email) in [
        (c.hang, "001185012345", "hang@example.vn"),
        (c.tuan, "001085054321", "tuan@example.vn"),
    ] {
        let set = app
            .patch(
                &format!("/api/v1/users/{person}"),
                Some(&c.admin),
                &json!({"national_id": national_id, "email": email}),
            )
            .await;
        assert_status(&set, 200);
    }
    // someone read Tuấn's certificate: his trail, not hers
    let (tuan_certificate, tuan_serial, tuan_code) = certificates_of(&app, c.tuan).remove(0);
    let pdf = app
        .get(
            &format!("/api/v1/certificates/{tuan_certificate}/pdf"),
            Some(&c.hr_hn),
        )
        .await;
    assert_status(&pdf, 200);

    let answer = app.get("/api/v1/me/data", Some(&c.hang_token)).await;
    assert_status(&answer, 200);
    let data = &answer.json;

    let profile = &data["profile"];
    assert_eq!(profile["id"], json!(c.hang));
    assert_eq!(profile["username"], "hang.nt");
    assert_eq!(profile["full_name"], "Nguyễn Văn hang nt");
    assert_eq!(profile["date_of_birth"], "1985-04-12");
    assert_eq!(profile["national_id"], "001185012345", "her own, in full");
    assert_eq!(profile["email"], "hang@example.vn");
    assert_eq!(profile["organization"]["code"], "HN-BADINH");
    assert_eq!(profile["category"], "civil_servant");
    assert_eq!(profile["roles"], json!(["trainee"]));
    assert!(profile["created_at"].is_string() && profile["updated_at"].is_string());

    let enrollments = data["enrollments"].as_array().unwrap();
    assert_eq!(enrollments.len(), 1);
    let e = &enrollments[0];
    assert_eq!(e["id"], json!(enrollments_of(&app, c.hang)[0]));
    assert_eq!(e["cohort"]["id"], json!(cohort));
    assert_eq!(e["course"]["code"], "TTV-2024");
    assert_eq!(e["status"], "completed");
    assert_eq!(e["score"], 90.0);
    assert_eq!(e["attendance_percent"], 100.0);
    let sessions = e["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert!(sessions.iter().all(|s| s["present"] == true));

    let certificates = data["certificates"].as_array().unwrap();
    let (hang_certificate, hang_serial, hang_code) = certificates_of(&app, c.hang).remove(0);
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0]["id"], json!(hang_certificate));
    assert_eq!(certificates[0]["serial"], hang_serial.as_str());
    assert_eq!(certificates[0]["verification_code"], hang_code.as_str());
    assert_eq!(certificates[0]["status"], "valid");
    assert_eq!(data["outreach"], json!([]));
    assert!(
        data["audit"]["total"].as_i64().unwrap() >= 2,
        "her login, her profile change"
    );
    assert_eq!(data["audit"]["limit"], 1000);

    // nothing of Tuấn, who sat in the same cohort, anywhere in the body
    let body = String::from_utf8_lossy(&answer.body);
    let tuan_enrollment = enrollments_of(&app, c.tuan)[0];
    for other in [
        c.tuan.to_string(),
        "tuan.lv".to_string(),
        "tuan lv".to_string(),
        "001085054321".to_string(),
        "tuan@example.vn".to_string(),
        tuan_enrollment.to_string(),
        tuan_certificate.to_string(),
        tuan_serial,
        tuan_code,
        c.ngoc.to_string(),
        "ngoc".to_string(),
    ] {
        assert!(!body.contains(&other), "{other} is in Hằng's data: {body}");
    }

    // without a session: 401
    assert_status(&app.get("/api/v1/me/data", None).await, 401);
}

#[actix_web::test]
async fn my_data_shows_who_read_my_data() {
    let app = spawn_app().await;
    let (c, _) = finished(&app).await;
    let (certificate, serial, _) = certificates_of(&app, c.hang).remove(0);
    let pdf = app
        .get(
            &format!("/api/v1/certificates/{certificate}/pdf"),
            Some(&c.hr_hn),
        )
        .await;
    assert_status(&pdf, 200);
    let hr_id = user_id(&app, "nhansu.hn");

    let answer = app.get("/api/v1/me/data", Some(&c.hang_token)).await;
    assert_status(&answer, 200);
    let items = answer.json["audit"]["items"].as_array().unwrap();
    let reads: Vec<&Value> = items
        .iter()
        .filter(|i| i["read"] == true && i["about_me"] == true)
        .collect();
    assert_eq!(reads.len(), 1, "{items:?}");
    let read = reads[0];
    assert_eq!(read["action"], "certificate_downloaded");
    assert_eq!(
        read["actor"],
        json!({"id": hr_id, "full_name": "Nguyễn Văn nhansu hn"})
    );
    assert_eq!(read["by_me"], false);
    assert_eq!(read["object_id"], json!(certificate.to_string()));
    assert_eq!(read["details"]["serial"], serial.as_str());
    assert!(read["address"].is_null(), "not the staff member's address");
    // her own sign-in is there too, with her address
    assert!(items
        .iter()
        .any(|i| i["action"] == "login" && i["by_me"] == true && i["address"].is_string()));
    // and what staff did to her record: her enrolment and her score are about her
    for action in ["enrolled", "score_recorded"] {
        assert!(
            items
                .iter()
                .any(|i| i["action"] == action && i["about_me"] == true && i["by_me"] == false),
            "{action} missing from her trail: {items:?}"
        );
    }

    // the page says who read it
    let cookies = sign_in(&app, "hang.nt").await;
    let page = get_page(&app, "/me/data", &cookies).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Ai đã xem dữ liệu của tôi"));
    assert!(page.body.contains("Nguyễn Văn nhansu hn"), "{}", page.body);
    assert!(page.body.contains(&format!("Giấy chứng nhận số {serial}")));

    // and the HR officer's own data does not name whose certificate they read
    let hr = app.get("/api/v1/me/data", Some(&c.hr_hn)).await;
    assert_status(&hr, 200);
    let hr_body = String::from_utf8_lossy(&hr.body);
    assert!(hr_body.contains("certificate_downloaded"));
    for other in [c.hang.to_string(), certificate.to_string(), serial] {
        assert!(!hr_body.contains(&other), "{other} in HR's own data");
    }
}

#[actix_web::test]
async fn the_my_data_page_renders_for_a_trainee() {
    let app = spawn_app().await;
    let (_c, _) = finished(&app).await;
    let cookies = sign_in(&app, "hang.nt").await;
    let me = get_page(&app, "/me", &cookies).await;
    assert_eq!(me.status, 200);
    assert!(
        me.body.contains("href=\"/me/data\""),
        "linked from Hồ sơ của tôi"
    );
    let page = get_page(&app, "/me/data", &cookies).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "<h1>Dữ liệu của tôi</h1>",
        "Tải về (JSON)",
        "href=\"/api/v1/me/data\"",
        "Nguyễn Văn hang nt",
        "hang.nt",
        "12/04/1985",
        "Điểm danh từng buổi học",
        "có mặt",
        "GCN-BHXH-HN",
        "Hoạt động tuyên truyền",
        "Ai đã xem dữ liệu của tôi",
        "Chưa có ai khác xem hay tải dữ liệu của bạn.",
    ] {
        assert!(page.body.contains(text), "{text} missing: {}", page.body);
    }
    assert!(!page.body.contains("tuan.lv"));
    // the download link works with the session cookie
    let json = get_page(&app, "/api/v1/me/data", &cookies).await;
    assert_eq!(json.status, 200);
    let data: Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(data["profile"]["username"], "hang.nt");
    // without a session: to sign in, and back
    let visitor = get_page(&app, "/me/data", "").await;
    assert_eq!(visitor.status, 303);
    assert!(visitor.location.unwrap().starts_with("/login?next="));
}
