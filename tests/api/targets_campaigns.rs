//! Targets and campaigns (issue 12): who sets an organisation's yearly target, who sees which
//! campaign, the national May campaign made sure of at start, cohorts referring to a campaign
//! (by id, or by name as earlier releases did), and their pages.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{assert_status, spawn_app, spawn_app_on, TestApp};
use crate::pages::{get_page, post_form, sign_in};
use crate::training::{chain, cohort_body, Chain};

const MAY_2027: &str = "Tháng vận động triển khai BHXH toàn dân năm 2027";

fn targets_path(app: &TestApp, code: &str, year: i32) -> String {
    format!("/api/v1/organizations/{}/targets/{year}", app.org(code))
}

async fn set_target(
    app: &TestApp,
    token: &str,
    code: &str,
    year: i32,
    body: Value,
) -> crate::harness::Answer {
    app.put(&targets_path(app, code, year), Some(token), &body)
        .await
}

fn count_targets(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM organization_targets")
}

#[actix_web::test]
async fn a_target_is_set_by_an_administrator_and_by_a_parent_coordinator_and_audited() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let by_admin = set_target(
        &app,
        &c.admin,
        "BHXH-HN",
        2027,
        json!({"master_trainers": 12, "propagandists": 1200}),
    )
    .await;
    assert_status(&by_admin, 200);
    assert_eq!(
        by_admin.json,
        json!({"year": 2027, "master_trainers": 12, "propagandists": 1200})
    );
    // Bảo hiểm xã hội Việt Nam sits above its Hà Nội branch: its coordinator changes the target
    let by_parent = set_target(
        &app,
        &c.bhxh,
        "BHXH-HN",
        2027,
        json!({"master_trainers": 15, "propagandists": 1500.0}),
    )
    .await;
    assert_status(&by_parent, 200);
    assert_eq!(by_parent.json["propagandists"], 1500);
    let next_year = set_target(
        &app,
        &c.bhxh,
        "BHXH-HN",
        2028,
        json!({"master_trainers": 20, "propagandists": 0}),
    )
    .await;
    assert_status(&next_year, 200);
    let listed = app
        .get(
            &format!("/api/v1/organizations/{}/targets", app.org("BHXH-HN")),
            Some(&c.hn),
        )
        .await;
    assert_status(&listed, 200);
    assert_eq!(
        listed.json["items"],
        json!([
            {"year": 2028, "master_trainers": 20, "propagandists": 0},
            {"year": 2027, "master_trainers": 15, "propagandists": 1500}
        ])
    );
    assert_eq!(count_targets(&app), 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'target_set'"),
        3
    );
    // the change records what it was and what it became
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'target_set' \
             AND (details -> 'before' ->> 'master_trainers')::int = 12 \
             AND (details -> 'after' ->> 'master_trainers')::int = 15"
        ),
        1
    );
    // the reports read the targets of a year
    let year = cascade::db::targets::for_year(&mut app.db(), 2027).expect("targets of 2027");
    assert_eq!(year.get(&app.org("BHXH-HN")), Some(&(15, 1500)));
}

#[actix_web::test]
async fn a_target_is_refused_to_the_organisations_own_coordinator_and_outside_the_scope() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let body = json!({"master_trainers": 3, "propagandists": 40});
    // Hà Nội's coordinator does not grade Hà Nội (403), and does not see Hồ Chí Minh City (404)
    let own = set_target(&app, &c.hn, "BHXH-HN", 2027, body.clone()).await;
    assert_status(&own, 403);
    assert_eq!(own.error_code(), "forbidden");
    let far = set_target(&app, &c.hn, "BHXH-HCM", 2027, body.clone()).await;
    assert_status(&far, 404);
    assert_eq!(far.error_code(), "not_found");
    // an HR officer above a unit may read it, not set it
    assert_status(
        &set_target(&app, &c.hr_hn, "HN-BADINH", 2027, body.clone()).await,
        403,
    );
    assert_status(
        &set_target(&app, &c.hang_token, "HN-BADINH", 2027, body.clone()).await,
        404,
    );
    assert_status(
        &set_target(&app, &c.bnv, "BHXH", 2027, body.clone()).await,
        404,
    );
    assert_eq!(count_targets(&app), 0);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_events \
             WHERE action = 'access_denied' AND object_id = 'set_target'"
        ),
        2
    );
    // the branch's coordinator sets the unit below it
    assert_status(&set_target(&app, &c.hn, "HN-BADINH", 2027, body).await, 200);
    assert_eq!(count_targets(&app), 1);
    // reading: in scope, a trainee their own workplace; elsewhere 404
    let path = |code: &str| format!("/api/v1/organizations/{}/targets", app.org(code));
    assert_status(&app.get(&path("HN-BADINH"), Some(&c.hang_token)).await, 200);
    assert_status(&app.get(&path("BHXH-HN"), Some(&c.hang_token)).await, 404);
    assert_status(&app.get(&path("BHXH-HN"), Some(&c.hcm)).await, 404);
    let unit = app.get(&path("HN-BADINH"), Some(&c.hr_hn)).await;
    assert_eq!(unit.json["items"][0]["propagandists"], 40);
}

#[actix_web::test]
async fn a_target_below_zero_or_not_whole_or_of_a_year_out_of_range_is_400_and_writes_nothing() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let negative = set_target(
        &app,
        &c.admin,
        "BHXH-HN",
        2027,
        json!({"master_trainers": -1, "propagandists": 5}),
    )
    .await;
    assert_status(&negative, 400);
    assert_eq!(negative.error_code(), "validation_failed");
    assert_eq!(
        negative.json["error"]["details"][0]["field"],
        "master_trainers"
    );
    let message = negative.json["error"]["details"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("giảng viên nguồn"), "{message}");
    let fraction = set_target(
        &app,
        &c.admin,
        "BHXH-HN",
        2027,
        json!({"master_trainers": 2.5, "propagandists": 5}),
    )
    .await;
    assert_status(&fraction, 400);
    let text = set_target(
        &app,
        &c.admin,
        "BHXH-HN",
        2027,
        json!({"master_trainers": "2", "propagandists": 5}),
    )
    .await;
    assert_status(&text, 400);
    for year in [1999, 2101] {
        let answer = set_target(
            &app,
            &c.admin,
            "BHXH-HN",
            year,
            json!({"master_trainers": 1, "propagandists": 1}),
        )
        .await;
        assert_status(&answer, 400);
        assert_eq!(answer.error_code(), "validation_failed");
        assert_eq!(answer.json["error"]["details"][0]["field"], "year");
    }
    assert_eq!(count_targets(&app), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'target_set'"),
        0
    );
}

async fn create_campaign(
    app: &TestApp,
    token: &str,
    name: &str,
    code: &str,
    from: &str,
    to: &str,
) -> crate::harness::Answer {
    app.post(
        "/api/v1/campaigns",
        Some(token),
        &json!({"name": name, "organization_id": app.org(code), "starts_on": from, "ends_on": to}),
    )
    .await
}

async fn created_campaign(
    app: &TestApp,
    token: &str,
    name: &str,
    code: &str,
    from: &str,
    to: &str,
) -> Uuid {
    let answer = create_campaign(app, token, name, code, from, to).await;
    assert_status(&answer, 201);
    answer.json["id"].as_str().unwrap().parse().unwrap()
}

fn names(answer: &crate::harness::Answer) -> Vec<String> {
    let mut n: Vec<String> = answer.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

#[actix_web::test]
async fn a_campaign_is_seen_from_below_and_not_from_a_sibling_branch() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let national = create_campaign(
        &app,
        &c.bhxh,
        "Chiến dịch toàn ngành",
        "BHXH",
        "2027-03-01",
        "2027-03-31",
    )
    .await;
    assert_status(&national, 201);
    assert_eq!(national.json["organization"]["code"], "BHXH");
    assert_eq!(national.json["starts_on"], "2027-03-01");
    created_campaign(
        &app,
        &c.hn,
        "Hà Nội tháng 5",
        "BHXH-HN",
        "2027-05-01",
        "2027-05-31",
    )
    .await;
    let unit = created_campaign(
        &app,
        &c.hn,
        "Ba Đình hè",
        "HN-BADINH",
        "2027-06-01",
        "2027-06-30",
    )
    .await;
    created_campaign(
        &app,
        &c.hn,
        "Hà Nội 2026",
        "BHXH-HN",
        "2026-10-01",
        "2026-10-31",
    )
    .await;
    let may = MAY_2027.to_string();
    // Hà Nội: its own, its unit's, the implementing agency's above it, and the national May one
    let hn = app.get("/api/v1/campaigns?year=2027", Some(&c.hn)).await;
    assert_status(&hn, 200);
    assert_eq!(
        names(&hn),
        [
            "Ba Đình hè",
            "Chiến dịch toàn ngành",
            "Hà Nội tháng 5",
            may.as_str()
        ]
    );
    // the sibling branch sees none of Hà Nội's
    let hcm = app.get("/api/v1/campaigns?year=2027", Some(&c.hcm)).await;
    assert_eq!(names(&hcm), ["Chiến dịch toàn ngành", may.as_str()]);
    assert_status(
        &app.get(&format!("/api/v1/campaigns/{unit}"), Some(&c.hcm))
            .await,
        404,
    );
    // a trainee of the unit sees the campaigns of their workplace and above it
    let trainee = app
        .get("/api/v1/campaigns?year=2027", Some(&c.hang_token))
        .await;
    assert_eq!(
        names(&trainee),
        [
            "Ba Đình hè",
            "Chiến dịch toàn ngành",
            "Hà Nội tháng 5",
            may.as_str()
        ]
    );
    let one = app
        .get(&format!("/api/v1/campaigns/{unit}"), Some(&c.hang_token))
        .await;
    assert_status(&one, 200);
    assert_eq!(one.json["organization"]["code"], "HN-BADINH");
    // without a year: every one, 2026 included
    assert_eq!(
        app.get("/api/v1/campaigns", Some(&c.hn)).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        app.get("/api/v1/campaigns?year=2026", Some(&c.hn))
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'campaign_created'"),
        4
    );
}

#[actix_web::test]
async fn a_campaign_is_refused_for_a_duplicate_name_bad_dates_or_the_wrong_caller() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    created_campaign(
        &app,
        &c.hn,
        "Hà Nội tháng 5",
        "BHXH-HN",
        "2027-05-01",
        "2027-05-31",
    )
    .await;
    let before = app.count("SELECT count(*) AS n FROM campaigns");
    let twice = create_campaign(
        &app,
        &c.hn,
        "  Hà Nội   tháng 5 ",
        "BHXH-HN",
        "2027-05-02",
        "2027-05-30",
    )
    .await;
    assert_status(&twice, 409);
    assert_eq!(twice.error_code(), "conflict");
    let backwards =
        create_campaign(&app, &c.hn, "Ngược", "BHXH-HN", "2027-05-10", "2027-05-01").await;
    assert_status(&backwards, 400);
    assert_eq!(backwards.json["error"]["details"][0]["field"], "ends_on");
    let empty = create_campaign(&app, &c.hn, " ", "BHXH-HN", "2027-05-01", "2027-05-02").await;
    assert_eq!(empty.json["error"]["details"][0]["field"], "name");
    // above the caller: out of scope; HR: not their role
    assert_status(
        &create_campaign(
            &app,
            &c.hn,
            "Toàn ngành",
            "BHXH",
            "2027-05-01",
            "2027-05-02",
        )
        .await,
        404,
    );
    assert_status(
        &create_campaign(
            &app,
            &c.hr_hn,
            "Nhân sự",
            "BHXH-HN",
            "2027-05-01",
            "2027-05-02",
        )
        .await,
        403,
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM campaigns"), before);
    // the same name in another organisation is another campaign
    created_campaign(
        &app,
        &c.hcm,
        "Hà Nội tháng 5",
        "BHXH-HCM",
        "2027-05-01",
        "2027-05-31",
    )
    .await;
}

#[actix_web::test]
async fn the_may_campaign_exists_after_start_and_a_restart_does_not_add_it_again() {
    let app = spawn_app().await;
    let sql = format!(
        "SELECT count(*) AS n FROM campaigns c JOIN organizations o ON o.id = c.organization_id \
         WHERE o.code = 'BNV' AND c.name = '{MAY_2027}' \
         AND c.starts_on = '2027-05-01' AND c.ends_on = '2027-05-31'"
    );
    assert_eq!(app.count(&sql), 1);
    let again = spawn_app_on(app.database_name.clone(), app.database_url.clone()).await;
    assert_eq!(again.count(&sql), 1);
    assert_eq!(again.count("SELECT count(*) AS n FROM campaigns"), 1);
}

async fn cohort_with(app: &TestApp, c: &Chain, extra: Value) -> crate::harness::Answer {
    let mut body = cohort_body(c.tier2, app.org("BHXH-HN"), 30);
    let fields = body.as_object_mut().unwrap();
    fields.remove("campaign");
    for (k, v) in extra.as_object().unwrap() {
        fields.insert(k.clone(), v.clone());
    }
    app.post("/api/v1/cohorts", Some(&c.hn), &body).await
}

#[actix_web::test]
async fn a_cohort_with_a_campaign_of_another_branch_or_other_days_is_refused_with_422() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let far = created_campaign(
        &app,
        &c.hcm,
        "Hồ Chí Minh tháng 5",
        "BHXH-HCM",
        "2027-05-01",
        "2027-05-31",
    )
    .await;
    let june = created_campaign(
        &app,
        &c.hn,
        "Hà Nội tháng 6",
        "BHXH-HN",
        "2027-06-01",
        "2027-06-30",
    )
    .await;
    let before = app.count("SELECT count(*) AS n FROM cohorts");
    for campaign in [far, june, Uuid::new_v4()] {
        let answer = cohort_with(&app, &c, json!({"campaign_id": campaign})).await;
        assert_status(&answer, 422);
        assert_eq!(answer.error_code(), "campaign_not_applicable");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM cohorts"), before);
}

#[actix_web::test]
async fn a_cohort_shows_its_campaign_by_id_and_name_and_keeps_it_to_its_days() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    // the parent's campaign applies to the branch's cohorts
    let parent = created_campaign(
        &app,
        &c.bhxh,
        "Chiến dịch toàn ngành tháng 5",
        "BHXH",
        "2027-05-01",
        "2027-05-20",
    )
    .await;
    let created = cohort_with(&app, &c, json!({"campaign_id": parent})).await;
    assert_status(&created, 201);
    assert_eq!(created.json["campaign_id"], parent.to_string());
    assert_eq!(created.json["campaign"], "Chiến dịch toàn ngành tháng 5");
    let id = created.json["id"].as_str().unwrap().to_string();
    let shown = app
        .get(&format!("/api/v1/cohorts/{id}"), Some(&c.hr_hn))
        .await;
    assert_eq!(shown.json["campaign"], "Chiến dịch toàn ngành tháng 5");
    // moved past the campaign's days: refused, and nothing changes
    let moved = app
        .patch(
            &format!("/api/v1/cohorts/{id}"),
            Some(&c.hn),
            &json!({"starts_on": "2027-05-25", "ends_on": "2027-05-26"}),
        )
        .await;
    assert_status(&moved, 422);
    assert_eq!(moved.error_code(), "campaign_not_applicable");
    assert_eq!(
        app.get(&format!("/api/v1/cohorts/{id}"), Some(&c.hn))
            .await
            .json["starts_on"],
        "2027-05-10"
    );
    // no campaign any more, then moved
    let cleared = app
        .patch(
            &format!("/api/v1/cohorts/{id}"),
            Some(&c.hn),
            &json!({"campaign_id": null}),
        )
        .await;
    assert_status(&cleared, 200);
    assert_eq!(cleared.json["campaign"], Value::Null);
    assert_eq!(cleared.json["campaign_id"], Value::Null);
    let moved = app
        .patch(
            &format!("/api/v1/cohorts/{id}"),
            Some(&c.hn),
            &json!({"starts_on": "2027-05-25", "ends_on": "2027-05-26"}),
        )
        .await;
    assert_status(&moved, 200);
}

#[actix_web::test]
async fn the_campaign_text_of_earlier_releases_still_names_a_campaign() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let national: String = {
        let all = app.get("/api/v1/campaigns?year=2027", Some(&c.hn)).await;
        all.json["items"][0]["id"].as_str().unwrap().to_string()
    };
    // `cohort_body` names the national May campaign by its text
    let created = app
        .post(
            "/api/v1/cohorts",
            Some(&c.hn),
            &cohort_body(c.tier2, app.org("BHXH-HN"), 30),
        )
        .await;
    assert_status(&created, 201);
    assert_eq!(created.json["campaign_id"], national);
    assert_eq!(created.json["campaign"], MAY_2027);
    // a branch's own campaign of the same name is nearer than the national one
    let own = created_campaign(&app, &c.hn, MAY_2027, "BHXH-HN", "2027-05-05", "2027-05-25").await;
    let nearer = app
        .post(
            "/api/v1/cohorts",
            Some(&c.hn),
            &cohort_body(c.tier2, app.org("BHXH-HN"), 30),
        )
        .await;
    assert_eq!(nearer.json["campaign_id"], own.to_string());
    let before = app.count("SELECT count(*) AS n FROM cohorts");
    let unknown = cohort_with(&app, &c, json!({"campaign": "Chiến dịch không có thật"})).await;
    assert_status(&unknown, 422);
    assert_eq!(unknown.error_code(), "campaign_not_applicable");
    assert_eq!(app.count("SELECT count(*) AS n FROM cohorts"), before);
    // and a name changes a cohort's campaign, an empty one takes it away
    let id = created.json["id"].as_str().unwrap();
    let renamed = app
        .patch(
            &format!("/api/v1/cohorts/{id}"),
            Some(&c.hn),
            &json!({"campaign": ""}),
        )
        .await;
    assert_status(&renamed, 200);
    assert_eq!(renamed.json["campaign"], Value::Null);
}

#[actix_web::test]
async fn the_targets_page_lists_the_organisations_below_and_saves_a_target() {
    let app = spawn_app().await;
    let _c = chain(&app).await;
    let bhxh = sign_in(&app, "dieuphoi.bhxh").await;
    let page = get_page(&app, "/targets?year=2027", &bhxh).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("lang=\"vi\""));
    assert!(page.body.contains("Bảo hiểm xã hội Thành phố Hà Nội"));
    assert!(
        !page.body.contains(">Bảo hiểm xã hội Việt Nam<"),
        "not its own organisation"
    );
    let hn = app.org("BHXH-HN").to_string();
    let saved = post_form(
        &app,
        "/targets",
        &bhxh,
        &[
            ("organization_id", &hn),
            ("year", "2027"),
            ("master_trainers", "5"),
            ("propagandists", "50"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location.as_deref(), Some("/targets?year=2027"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM organization_targets WHERE propagandists = 50"),
        1
    );
    let shown = get_page(&app, "/targets?year=2027", &bhxh).await;
    assert!(shown.body.contains("value=\"50\""));
    // a broken rule: the form again, its message in Vietnamese, the API's status
    let refused = post_form(
        &app,
        "/targets",
        &bhxh,
        &[
            ("organization_id", &hn),
            ("year", "2027"),
            ("master_trainers", "5"),
            ("propagandists", "-3"),
        ],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused
        .body
        .contains("Chỉ tiêu tuyên truyền viên phải là số nguyên"));
    assert!(refused.body.contains("aria-invalid=\"true\""));
    // the branch's own coordinator may not set the branch's target
    let own = sign_in(&app, "dieuphoi.hn").await;
    let forbidden = post_form(
        &app,
        "/targets",
        &own,
        &[
            ("organization_id", &hn),
            ("year", "2027"),
            ("master_trainers", "9"),
            ("propagandists", "9"),
        ],
    )
    .await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM organization_targets WHERE propagandists = 50"),
        1
    );
}

#[actix_web::test]
async fn the_campaigns_page_offers_the_may_campaign_and_creates_one() {
    let app = spawn_app().await;
    let _c = chain(&app).await;
    let hn = sign_in(&app, "dieuphoi.hn").await;
    let page = get_page(&app, "/campaigns?year=2027", &hn).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(MAY_2027),
        "the national campaign is listed"
    );
    // the form is pre-filled with this year's May campaign (the tests' clock says 2027)
    assert!(page.body.contains("value=\"2027-05-01\""));
    assert!(page.body.contains("value=\"2027-05-31\""));
    let org = app.org("BHXH-HN").to_string();
    let form = |name: &'static str| {
        vec![
            ("name", name),
            ("organization_id", org.as_str()),
            ("starts_on", "2027-05-01"),
            ("ends_on", "2027-05-31"),
        ]
    };
    let created = post_form(&app, "/campaigns", &hn, &form("Hà Nội tháng 5")).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let listed = get_page(&app, "/campaigns?year=2027", &hn).await;
    assert!(listed.body.contains("Hà Nội tháng 5"));
    let twice = post_form(&app, "/campaigns", &hn, &form("Hà Nội tháng 5")).await;
    assert_eq!(twice.status, 409);
    assert!(twice.body.contains("đã có một chiến dịch mang tên này"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM campaigns WHERE name = 'Hà Nội tháng 5'"),
        1
    );
}

#[actix_web::test]
async fn the_new_cohort_form_offers_a_campaign_and_shows_the_rule_when_it_does_not_apply() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let far = created_campaign(
        &app,
        &c.hcm,
        "Hồ Chí Minh tháng 5",
        "BHXH-HCM",
        "2027-05-01",
        "2027-05-31",
    )
    .await;
    let hn = sign_in(&app, "dieuphoi.hn").await;
    let form = get_page(&app, "/cohorts/new", &hn).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"campaign_id\""));
    assert!(form.body.contains(MAY_2027));
    assert!(!form.body.contains("Hồ Chí Minh tháng 5"));
    let (course, org, far) = (
        c.tier2.to_string(),
        app.org("BHXH-HN").to_string(),
        far.to_string(),
    );
    let fields = |campaign: &str| {
        vec![
            ("course_id", course.clone()),
            ("organization_id", org.clone()),
            ("title", "Lớp tuyên truyền viên tháng 5".to_string()),
            ("starts_on", "2027-05-10".to_string()),
            ("ends_on", "2027-05-11".to_string()),
            ("location", "Hà Nội".to_string()),
            ("mode", "in_person".to_string()),
            ("capacity", "30".to_string()),
            ("campaign_id", campaign.to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let (app, hn) = (&app, hn.clone());
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(app, "/cohorts/new", &hn, &pairs).await
        }
    };
    let refused = post(fields(&far)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("không thuộc đơn vị tổ chức lớp"));
    let national = app
        .get("/api/v1/campaigns?year=2027", Some(&c.hn))
        .await
        .json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = post(fields(&national)).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let page = get_page(&app, created.location.as_deref().unwrap(), &hn).await;
    assert!(page.body.contains(MAY_2027));
}
