//! The outreach log (issue 12): who may record, the rules of an entry, corrections and
//! rejections with their history, scopes, the CSV import, and `/me/data`. The tests act as of
//! 1 June 2027.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{assert_status, date, spawn_app, CertificateBuilder, TestApp};

/// People of two branches: certified authors, uncertified ones, coordinators and HR.
pub struct Outreach {
    /// A propagandist of a unit under Hà Nội (certificate valid 2027-01-01 to 2029-01-01).
    pub lan: Uuid,
    pub lan_token: String,
    /// A master trainer of the Hà Nội branch itself.
    pub minh_token: String,
    /// A propagandist of a unit under Hồ Chí Minh City.
    pub khoa_token: String,
    /// A coordinator of the Hà Nội branch and one of Hồ Chí Minh City.
    pub hn: String,
    pub hcm: String,
    pub hr_hn: String,
    pub campaign: Uuid,
}

impl Outreach {
    pub async fn build(app: &TestApp) -> Outreach {
        app.unit("HN-BADINH", "Ủy ban nhân dân phường Ba Đình", "BHXH-HN");
        app.unit(
            "HCM-BENTHANH",
            "Ủy ban nhân dân phường Bến Thành",
            "BHXH-HCM",
        );
        app.person(
            "dieuphoi.hn",
            "BHXH-HN",
            &["coordinator"],
            "public_employee",
        );
        app.person(
            "dieuphoi.hcm",
            "BHXH-HCM",
            &["coordinator"],
            "public_employee",
        );
        app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
        let lan = app.person("lan.tt", "HN-BADINH", &["trainee"], "civil_servant");
        CertificateBuilder::propagandist(lan).insert(app);
        let minh = app.person("minh.gv", "BHXH-HN", &["trainee"], "public_employee");
        CertificateBuilder::master_trainer(minh).insert(app);
        let khoa = app.person("khoa.dm", "HCM-BENTHANH", &["trainee"], "civil_servant");
        CertificateBuilder::propagandist(khoa).insert(app);
        let campaign = campaign(
            app,
            "BHXH-HN",
            "Tháng vận động 2027",
            (2027, 5, 1),
            (2027, 5, 31),
        );
        Outreach {
            lan,
            lan_token: app.login("lan.tt").await,
            minh_token: app.login("minh.gv").await,
            khoa_token: app.login("khoa.dm").await,
            hn: app.login("dieuphoi.hn").await,
            hcm: app.login("dieuphoi.hcm").await,
            hr_hn: app.login("nhansu.hn").await,
            campaign,
        }
    }
}

/// A campaign of an organisation, straight into its table.
pub fn campaign(
    app: &TestApp,
    org: &str,
    name: &str,
    from: (i32, u32, u32),
    to: (i32, u32, u32),
) -> Uuid {
    use cascade::db::schema::campaigns;
    use diesel::prelude::*;
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::name.eq(name),
            campaigns::organization_id.eq(app.org(org)),
            campaigns::starts_on.eq(date(from.0, from.1, from.2)),
            campaigns::ends_on.eq(date(to.0, to.1, to.2)),
        ))
        .returning(campaigns::id)
        .get_result(&mut app.db())
        .expect("insert campaign")
}

pub fn activity() -> Value {
    json!({
        "held_on": "2027-05-20",
        "province_code": "01",
        "commune": "Phường Ba Đình",
        "form": "door_to_door",
        "audience": 40,
        "employers_reached": 3,
        "note": "Tuyên truyền BHXH tự nguyện cho hộ kinh doanh"
    })
}

fn entries(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM outreach_entries")
}

async fn record(app: &TestApp, token: &str, body: &Value) -> String {
    let answer = app.post("/api/v1/outreach", Some(token), body).await;
    assert_status(&answer, 201);
    answer.json["id"].as_str().unwrap().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_certified_propagandist_records_an_activity_and_gets_every_field_back() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let mut body = activity();
    body["campaign_id"] = json!(w.campaign);
    let answer = app
        .post("/api/v1/outreach", Some(&w.lan_token), &body)
        .await;
    assert_status(&answer, 201);
    let e = &answer.json;
    assert_eq!(e["status"], "recorded");
    assert_eq!(e["held_on"], "2027-05-20");
    assert_eq!(e["province"], json!({"code": "01", "name": "Hà Nội"}));
    assert_eq!(e["commune"], "Phường Ba Đình");
    assert_eq!(e["form"], "door_to_door");
    assert_eq!(
        (e["audience"].as_i64(), e["employers_reached"].as_i64()),
        (Some(40), Some(3))
    );
    assert_eq!(e["campaign"]["id"], json!(w.campaign));
    assert_eq!(e["campaign"]["name"], "Tháng vận động 2027");
    assert_eq!(e["author"]["id"], json!(w.lan));
    assert_eq!(e["author"]["full_name"], "Nguyễn Văn lan tt");
    assert_eq!(e["organization"]["code"], "HN-BADINH");
    assert_eq!(e["version"], 1);
    assert_eq!(e["history"], json!([]));
    assert!(e["created_at"].is_string() && e["updated_at"].is_string());
    assert_eq!(entries(&app), 1);
    let id = e["id"].as_str().unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'outreach_recorded' \
             AND object_id = '{id}' AND subject_id = '{}' AND actor_id = '{}'",
            w.lan, w.lan
        )),
        1
    );
    // a master trainer records too
    record(&app, &w.minh_token, &activity()).await;
    assert_eq!(entries(&app), 2);
}

#[actix_web::test]
async fn a_person_without_a_valid_certificate_is_refused_with_not_certified() {
    let app = spawn_app().await;
    Outreach::build(&app).await;
    app.person("never.c", "HN-BADINH", &["trainee"], "civil_servant");
    let expired = app.person("expired.c", "HN-BADINH", &["trainee"], "civil_servant");
    CertificateBuilder::propagandist(expired)
        .issued_on(date(2025, 1, 1))
        .valid_until(date(2027, 5, 31))
        .insert(&app);
    let revoked = app.person("revoked.c", "HN-BADINH", &["trainee"], "civil_servant");
    CertificateBuilder::propagandist(revoked)
        .revoked("gian lận")
        .insert(&app);
    for who in ["never.c", "expired.c", "revoked.c", "dieuphoi.hn"] {
        let token = app.login(who).await;
        let answer = app
            .post("/api/v1/outreach", Some(&token), &activity())
            .await;
        assert_status(&answer, 422);
        assert_eq!(answer.error_code(), "not_certified", "{who}");
        assert!(answer.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("giấy chứng nhận"));
    }
    assert_eq!(entries(&app), 0);
}

#[actix_web::test]
async fn bad_fields_a_future_day_or_a_day_before_certification_write_nothing() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let with = |field: &str, value: Value| {
        let mut body = activity();
        body[field] = value;
        body
    };
    // tomorrow in Vietnam
    let answer = app
        .post(
            "/api/v1/outreach",
            Some(&w.lan_token),
            &with("held_on", json!("2027-06-02")),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(answer.json["error"]["details"][0]["field"], "held_on");
    for (field, value) in [
        ("audience", json!(0)),
        ("audience", json!(1_000_001)),
        ("employers_reached", json!(-1)),
        ("form", json!("radio")),
        ("province_code", json!("99")),
        ("commune", json!("x".repeat(201))),
        ("note", json!("Ghi\u{0}chú")),
    ] {
        let answer = app
            .post("/api/v1/outreach", Some(&w.lan_token), &with(field, value))
            .await;
        assert_status(&answer, 400);
        assert_eq!(answer.json["error"]["details"][0]["field"], field);
    }
    let answer = app
        .post(
            "/api/v1/outreach",
            Some(&w.lan_token),
            &with("audience", json!(2.5)),
        )
        .await;
    assert_status(&answer, 400);
    // the propagandist's certificate was issued on 1 January 2027
    let answer = app
        .post(
            "/api/v1/outreach",
            Some(&w.lan_token),
            &with("held_on", json!("2026-12-31")),
        )
        .await;
    assert_status(&answer, 422);
    assert_eq!(answer.error_code(), "not_certified");
    // a campaign outside its days, or of another branch
    let mut body = with("held_on", json!("2027-06-01"));
    body["campaign_id"] = json!(w.campaign);
    let answer = app
        .post("/api/v1/outreach", Some(&w.lan_token), &body)
        .await;
    assert_status(&answer, 422);
    assert_eq!(answer.error_code(), "campaign_not_applicable");
    let other = campaign(
        &app,
        "BHXH-HCM",
        "Tháng vận động HCM",
        (2027, 5, 1),
        (2027, 5, 31),
    );
    body["held_on"] = json!("2027-05-20");
    body["campaign_id"] = json!(other);
    let answer = app
        .post("/api/v1/outreach", Some(&w.lan_token), &body)
        .await;
    assert_eq!(answer.error_code(), "campaign_not_applicable");
    assert_eq!(entries(&app), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'outreach_recorded'"),
        0
    );
}

#[actix_web::test]
async fn a_propagandist_whose_certificate_has_since_expired_keeps_older_entries_visible() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    // certified until 25 May 2027; an activity of 20 May, recorded while the certificate held
    let hoa = app.person("hoa.pt", "HN-BADINH", &["trainee"], "civil_servant");
    CertificateBuilder::propagandist(hoa)
        .issued_on(date(2025, 6, 1))
        .valid_until(date(2027, 5, 25))
        .insert(&app);
    let earlier = cascade::db::outreach::insert_many(
        &mut app.db(),
        &[cascade::db::outreach::NewOutreach {
            id: Uuid::new_v4(),
            author_id: hoa,
            organization_id: app.org("HN-BADINH"),
            held_on: date(2027, 5, 20),
            province_code: "01".into(),
            commune: None,
            form: "direct_talk".into(),
            audience: 25,
            employers_reached: None,
            campaign_id: None,
            note: None,
        }],
    )
    .unwrap()
    .remove(0)
    .id
    .to_string();
    let hoa_token = app.login("hoa.pt").await;
    let answer = app
        .post("/api/v1/outreach", Some(&hoa_token), &activity())
        .await;
    assert_status(&answer, 422);
    assert_eq!(answer.error_code(), "not_certified");
    let own = app.get("/api/v1/outreach", Some(&hoa_token)).await;
    assert_status(&own, 200);
    assert_eq!(ids(&own.json), vec![earlier.clone()]);
    let one = app
        .get(&format!("/api/v1/outreach/{earlier}"), Some(&hoa_token))
        .await;
    assert_status(&one, 200);
    assert_eq!(one.json["status"], "recorded");
    let data = app.get("/api/v1/me/data", Some(&hoa_token)).await;
    assert_eq!(data.json["outreach"][0]["id"], earlier.as_str());
    let staff = app.get("/api/v1/outreach", Some(&w.hn)).await;
    assert_eq!(ids(&staff.json), vec![earlier]);
}

#[actix_web::test]
async fn the_author_corrects_while_recorded_and_the_history_holds_the_previous_values() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let id = record(&app, &w.lan_token, &activity()).await;
    let path = format!("/api/v1/outreach/{id}");
    let answer = app
        .patch(
            &path,
            Some(&w.lan_token),
            &json!({"audience": 55, "commune": null, "form": "conference", "version": 1}),
        )
        .await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["audience"], 55);
    assert_eq!(answer.json["commune"], Value::Null);
    assert_eq!(answer.json["form"], "conference");
    assert_eq!(answer.json["version"], 2);
    let history = answer.json["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["version"], 1);
    assert_eq!(history[0]["revised_by"]["id"], json!(w.lan));
    assert_eq!(history[0]["previous"]["audience"], 40);
    assert_eq!(history[0]["previous"]["commune"], "Phường Ba Đình");
    assert_eq!(history[0]["previous"]["form"], "door_to_door");
    // a second writer who saw version 1 is stale, by body or by If-Match
    let stale = app
        .patch(&path, Some(&w.hn), &json!({"audience": 60, "version": 1}))
        .await;
    assert_status(&stale, 409);
    let stale = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&w.hn)
        .insert_header(("if-match", "\"1\""))
        .send_json(&json!({"audience": 60}))
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 409);
    // a correction that breaks a rule writes nothing
    let bad = app
        .patch(&path, Some(&w.lan_token), &json!({"held_on": "2030-01-01"}))
        .await;
    assert_status(&bad, 400);
    // the coordinator of the branch corrects too
    let fixed = app
        .patch(
            &path,
            Some(&w.hn),
            &json!({"employers_reached": null, "version": 2}),
        )
        .await;
    assert_status(&fixed, 200);
    assert_eq!(fixed.json["version"], 3);
    assert_eq!(fixed.json["history"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM outreach_revisions WHERE entry_id = '{id}'"
        )),
        2
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'outreach_corrected' \
             AND subject_id = '{}'",
            w.lan
        )),
        2
    );
}

#[actix_web::test]
async fn a_null_for_a_required_field_of_a_correction_answers_400_and_changes_nothing() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let id = record(&app, &w.lan_token, &activity()).await;
    let path = format!("/api/v1/outreach/{id}");
    for field in ["held_on", "province_code", "form", "audience"] {
        let mut body = json!({"note": "đã sửa"});
        body[field] = Value::Null;
        let answer = app.patch(&path, Some(&w.lan_token), &body).await;
        assert_status(&answer, 400);
        assert_eq!(answer.error_code(), "invalid_json", "{field}");
    }
    let entry = app.get(&path, Some(&w.lan_token)).await;
    assert_eq!(entry.json["version"], 1);
    assert_eq!(entry.json["audience"], 40);
    assert_eq!(
        entry.json["note"],
        "Tuyên truyền BHXH tự nguyện cho hộ kinh doanh"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM outreach_revisions WHERE entry_id = '{id}'"
        )),
        0
    );
}

#[actix_web::test]
async fn a_search_whose_period_ends_before_it_starts_answers_400() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    record(&app, &w.lan_token, &activity()).await;
    for token in [&w.hn, &w.lan_token] {
        let answer = app
            .get(
                "/api/v1/outreach?from=2027-05-21&to=2027-05-20",
                Some(token),
            )
            .await;
        assert_status(&answer, 400);
        assert_eq!(answer.error_code(), "validation_failed");
        assert_eq!(answer.json["error"]["details"][0]["field"], "from");
    }
    // one day, from and to the same, finds the entry of that day
    let day = app
        .get(
            "/api/v1/outreach?from=2027-05-20&to=2027-05-20",
            Some(&w.hn),
        )
        .await;
    assert_status(&day, 200);
    assert_eq!(day.json["total"], 1);
}

#[actix_web::test]
async fn a_coordinator_out_of_scope_gets_404_and_hr_may_look_but_not_change() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let id = record(&app, &w.lan_token, &activity()).await;
    let path = format!("/api/v1/outreach/{id}");
    assert_status(&app.get(&path, Some(&w.hcm)).await, 404);
    assert_status(
        &app.patch(
            &path,
            Some(&w.hcm),
            &json!({"status": "rejected", "reason": "sai"}),
        )
        .await,
        404,
    );
    assert_status(&app.get(&path, Some(&w.khoa_token)).await, 404);
    assert_status(&app.get(&path, Some(&w.hr_hn)).await, 200);
    assert_status(
        &app.patch(&path, Some(&w.hr_hn), &json!({"audience": 1}))
            .await,
        403,
    );
    let unchanged = app.get(&path, Some(&w.lan_token)).await;
    assert_eq!(unchanged.json["version"], 1);
    assert_eq!(unchanged.json["audience"], 40);
}

#[actix_web::test]
async fn a_coordinator_rejects_with_a_reason_and_the_entry_takes_no_further_change() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let id = record(&app, &w.lan_token, &activity()).await;
    let path = format!("/api/v1/outreach/{id}");
    // only a coordinator rejects, and only with a reason
    let by_author = app
        .patch(
            &path,
            Some(&w.lan_token),
            &json!({"status": "rejected", "reason": "nhầm"}),
        )
        .await;
    assert_status(&by_author, 403);
    let no_reason = app
        .patch(&path, Some(&w.hn), &json!({"status": "rejected"}))
        .await;
    assert_status(&no_reason, 400);
    let rejected = app
        .patch(
            &path,
            Some(&w.hn),
            &json!({"status": "rejected", "reason": "Trùng với hoạt động đã ghi"}),
        )
        .await;
    assert_status(&rejected, 200);
    assert_eq!(rejected.json["status"], "rejected");
    assert_eq!(
        rejected.json["rejection_reason"],
        "Trùng với hoạt động đã ghi"
    );
    assert_eq!(rejected.json["version"], 2);
    assert_eq!(
        rejected.json["history"][0]["previous"]["status"],
        "recorded"
    );
    for (token, body) in [
        (&w.hn, json!({"audience": 12})),
        (&w.lan_token, json!({"audience": 12})),
        (&w.hn, json!({"status": "rejected", "reason": "lần nữa"})),
    ] {
        let again = app.patch(&path, Some(token), &body).await;
        assert_status(&again, 409);
    }
    // nothing is deleted: the entry and its history stay, visible to its author
    let seen = app.get(&path, Some(&w.lan_token)).await;
    assert_eq!(seen.json["status"], "rejected");
    assert_eq!(seen.json["audience"], 40);
    assert_eq!(seen.json["history"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'outreach_rejected' \
             AND subject_id = '{}'",
            w.lan
        )),
        1
    );
}

#[actix_web::test]
async fn a_branch_coordinator_sees_the_branch_and_its_units_and_an_author_only_their_own() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let lan = record(&app, &w.lan_token, &activity()).await;
    let mut earlier = activity();
    earlier["held_on"] = json!("2027-05-02");
    let minh = record(&app, &w.minh_token, &earlier).await;
    let mut hcm = activity();
    hcm["province_code"] = json!("79");
    let khoa = record(&app, &w.khoa_token, &hcm).await;

    let branch = app.get("/api/v1/outreach", Some(&w.hn)).await;
    assert_status(&branch, 200);
    assert_eq!(
        ids(&branch.json),
        vec![lan.clone(), minh.clone()],
        "newest first"
    );
    assert_eq!(branch.json["total"], 2);
    let unit = app
        .get(
            &format!("/api/v1/outreach?organization_id={}", app.org("HN-BADINH")),
            Some(&w.hn),
        )
        .await;
    assert_eq!(ids(&unit.json), vec![lan.clone()]);
    let elsewhere = app
        .get(
            &format!("/api/v1/outreach?organization_id={}", app.org("BHXH-HCM")),
            Some(&w.hn),
        )
        .await;
    assert_status(&elsewhere, 404);
    let period = app
        .get(
            "/api/v1/outreach?from=2027-05-01&to=2027-05-10",
            Some(&w.hn),
        )
        .await;
    assert_eq!(ids(&period.json), vec![minh.clone()]);
    let paged = app
        .get("/api/v1/outreach?per_page=1&page=2", Some(&w.hn))
        .await;
    assert_eq!(ids(&paged.json), vec![minh.clone()]);
    assert_eq!(
        (paged.json["page"].as_i64(), paged.json["total"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        ids(&app.get("/api/v1/outreach", Some(&w.hcm)).await.json),
        vec![khoa.clone()]
    );

    let own = app.get("/api/v1/outreach", Some(&w.lan_token)).await;
    assert_eq!(ids(&own.json), vec![lan.clone()]);
    let someone_else = app
        .get(
            &format!("/api/v1/outreach?author_id={}", Uuid::new_v4()),
            Some(&w.lan_token),
        )
        .await;
    assert_status(&someone_else, 403);
    // rejected entries by status
    app.patch(
        &format!("/api/v1/outreach/{minh}"),
        Some(&w.hn),
        &json!({"status": "rejected", "reason": "Không có minh chứng"}),
    )
    .await;
    let rejected = app
        .get("/api/v1/outreach?status=rejected", Some(&w.hn))
        .await;
    assert_eq!(ids(&rejected.json), vec![minh]);
    assert_status(
        &app.get("/api/v1/outreach?status=deleted", Some(&w.hn))
            .await,
        400,
    );
}

const HEADER: &str =
    "username,held_on,province_code,commune,form,audience,employers_reached,campaign,note";

async fn import(app: &TestApp, token: &str, csv: &str) -> crate::harness::Answer {
    app.post_raw(
        "/api/v1/outreach/import",
        Some(token),
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await
}

#[actix_web::test]
async fn a_csv_import_with_one_bad_line_writes_nothing_and_names_the_line() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    // line 3: an author of another branch; line 5: a day before the certificate
    let csv = format!(
        "\u{feff}{HEADER}\r\n\
         lan.tt,2027-05-20,01,Phường Ba Đình,door_to_door,40,3,Tháng vận động 2027,\r\n\
         khoa.dm,2027-05-20,79,,online,10,,,\r\n\
         minh.gv,2027-05-21,01,,conference,120,5,,Hội nghị người lao động\r\n\
         lan.tt,2026-12-01,01,,direct_talk,15,,,\r\n"
    );
    let answer = import(&app, &w.hn, &csv).await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["created"], 0);
    let errors = answer.json["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![3, 5], "{errors:?}");
    assert!(errors[0]["message"].as_str().unwrap().contains("khoa.dm"));
    assert_eq!(entries(&app), 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM outreach_revisions"), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action LIKE 'outreach_%'"),
        0
    );
}

#[actix_web::test]
async fn a_good_csv_file_creates_every_entry_for_its_authors() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let csv = format!(
        "{HEADER}\n\
         lan.tt,2027-05-20,01,Phường Ba Đình,door_to_door,40,3,Tháng vận động 2027,\n\
         minh.gv,21/05/2027,01,,conference,120,5,{},\"Hội nghị, người lao động\"\n\
         lan.tt,2027-05-25,01,,short_video,300,,,\n",
        w.campaign
    );
    let answer = import(&app, &w.hn, &csv).await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["errors"], json!([]), "{}", answer.json);
    assert_eq!(answer.json["created"], 3);
    assert_eq!(entries(&app), 3);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM outreach_entries WHERE campaign_id = '{}'",
            w.campaign
        )),
        2
    );
    let own = app.get("/api/v1/outreach", Some(&w.lan_token)).await;
    assert_eq!(own.json["total"], 2);
    assert_eq!(own.json["items"][0]["author"]["id"], json!(w.lan));
    assert_eq!(own.json["items"][1]["organization"]["code"], "HN-BADINH");
    // the importing coordinator recorded them; each is about its author
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events a JOIN users u ON u.id = a.actor_id \
             WHERE a.action = 'outreach_recorded' AND u.username = 'dieuphoi.hn' \
             AND a.subject_id = '{}'",
            w.lan
        )),
        2
    );
    // only coordinators import, and only CSV
    assert_status(&import(&app, &w.lan_token, &csv).await, 403);
    assert_status(&import(&app, &w.hr_hn, &csv).await, 403);
    let json_body = app
        .post_raw(
            "/api/v1/outreach/import",
            Some(&w.hn),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_status(&json_body, 415);
    assert_eq!(entries(&app), 3);
}

#[actix_web::test]
async fn me_data_lists_the_callers_entries_with_history_and_nothing_of_a_colleague() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let mine = record(&app, &w.lan_token, &activity()).await;
    record(&app, &w.minh_token, &activity()).await;
    app.patch(
        &format!("/api/v1/outreach/{mine}"),
        Some(&w.lan_token),
        &json!({"audience": 41}),
    )
    .await;
    let data = app.get("/api/v1/me/data", Some(&w.lan_token)).await;
    assert_status(&data, 200);
    let outreach = data.json["outreach"].as_array().unwrap();
    assert_eq!(outreach.len(), 1);
    assert_eq!(outreach[0]["id"], mine.as_str());
    assert_eq!(outreach[0]["audience"], 41);
    assert_eq!(outreach[0]["history"][0]["previous"]["audience"], 40);
    let theirs = app.get("/api/v1/me/data", Some(&w.hn)).await;
    assert_eq!(theirs.json["outreach"], json!([]));
}

#[actix_web::test]
async fn two_coordinators_correcting_the_same_version_at_once_one_wins_the_other_hears_409() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    app.person(
        "dieuphoi.hn2",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    let other = app.login("dieuphoi.hn2").await;
    let id = record(&app, &w.lan_token, &activity()).await;
    let path = format!("/api/v1/outreach/{id}");
    let first = json!({"audience": 50, "version": 1});
    let second = json!({"audience": 60, "version": 1});
    let (a, b) = futures_util::future::join(
        app.patch(&path, Some(&w.hn), &first),
        app.patch(&path, Some(&other), &second),
    )
    .await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let now = app.get(&path, Some(&w.hn)).await;
    assert_eq!(now.json["version"], 2);
    assert_eq!(now.json["history"].as_array().unwrap().len(), 1);
    let winner = if a.status.as_u16() == 200 { 50 } else { 60 };
    assert_eq!(now.json["audience"], winner);
}
