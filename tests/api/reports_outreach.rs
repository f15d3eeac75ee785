//! The outreach report (issue 12): counts per organisation rolled up the tree, by form and by
//! month, active versus certified propagandists, any period and one campaign, scope, CSV and
//! XLSX; checked against a small hand-built log recorded through the outreach API. The tests
//! act as of 1 June 2027.

use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{assert_status, date, spawn_app, CertificateBuilder, TestApp};
use crate::outreach::Outreach;
use crate::pages::{get_page, sign_in};
use crate::reports::{item, number, sheet};

async fn record(app: &TestApp, token: &str, body: Value) -> String {
    let answer = app.post("/api/v1/outreach", Some(token), &body).await;
    assert_status(&answer, 201);
    answer.json["id"].as_str().unwrap().to_string()
}

fn activity(held_on: &str, form: &str, audience: i64, employers: Option<i64>) -> Value {
    let mut body = json!({
        "held_on": held_on, "province_code": "01", "commune": "Phường Ba Đình",
        "form": form, "audience": audience
    });
    if let Some(e) = employers {
        body["employers_reached"] = json!(e);
    }
    body
}

/// The log: Lan (a unit under Hà Nội) records three activities, one corrected (40 → 55) and one
/// rejected; Cường (same unit) one in February, his certificate expiring on 1 March; Minh (a
/// master trainer of the branch) one; Khoa (Hồ Chí Minh City) one.
struct Log {
    w: Outreach,
    admin: String,
}

async fn log(app: &TestApp) -> Log {
    let w = Outreach::build(app).await;
    app.person("quantri", "BNV", &["admin"], "civil_servant");
    // Cường's certificate expired on 1 March; his February entry was recorded while it held
    let cuong = app.person("cuong.vh", "HN-BADINH", &["trainee"], "civil_servant");
    CertificateBuilder::propagandist(cuong)
        .valid_until(date(2027, 3, 1))
        .insert(app);
    expired_authors_entry(app, cuong);

    let mut may = activity("2027-05-20", "door_to_door", 40, Some(3));
    may["campaign_id"] = json!(w.campaign);
    let corrected = record(app, &w.lan_token, may).await;
    record(
        app,
        &w.lan_token,
        activity("2027-03-10", "direct_talk", 25, None),
    )
    .await;
    let rejected = record(
        app,
        &w.lan_token,
        activity("2027-04-02", "online", 10, Some(2)),
    )
    .await;
    record(
        app,
        &w.minh_token,
        activity("2027-05-02", "conference", 100, Some(5)),
    )
    .await;
    record(
        app,
        &w.khoa_token,
        activity("2027-04-04", "short_video", 70, None),
    )
    .await;
    let fixed = app
        .patch(
            &format!("/api/v1/outreach/{corrected}"),
            Some(&w.lan_token),
            &json!({"audience": 55, "version": 1}),
        )
        .await;
    assert_status(&fixed, 200);
    let refused = app
        .patch(
            &format!("/api/v1/outreach/{rejected}"),
            Some(&w.hn),
            &json!({"status": "rejected", "reason": "Trùng với hoạt động đã ghi"}),
        )
        .await;
    assert_status(&refused, 200);
    Log {
        w,
        admin: app.login("quantri").await,
    }
}

/// Cường's entry of 10 February, written as the outreach service writes it (the API takes no
/// new entry from him now that his certificate has expired), summary included.
fn expired_authors_entry(app: &TestApp, cuong: Uuid) {
    use cascade::db::outreach_summary::{outreach_changed, OutreachContribution};
    use cascade::db::schema::outreach_entries as x;
    let mut conn = app.db();
    let org = app.org("HN-BADINH");
    diesel::insert_into(x::table)
        .values((
            x::author_id.eq(cuong),
            x::organization_id.eq(org),
            x::held_on.eq(date(2027, 2, 10)),
            x::province_code.eq("01"),
            x::form.eq("social_media"),
            x::audience.eq(30),
            x::employers_reached.eq(Some(1)),
        ))
        .execute(&mut conn)
        .unwrap();
    let entry = OutreachContribution {
        organization_id: org,
        author_id: cuong,
        held_on: date(2027, 2, 10),
        form: "social_media".into(),
        audience: 30,
        employers_reached: 1,
        campaign_id: None,
    };
    outreach_changed(&mut conn, None, Some(&entry)).unwrap();
}

async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    let answer = app
        .get(&format!("/api/v1/reports/outreach?{query}"), Some(token))
        .await;
    assert_status(&answer, 200);
    answer.json
}

#[actix_web::test]
async fn outreach_counts_corrected_entries_by_their_new_values_never_rejected_ones_rolled_up() {
    let app = spawn_app().await;
    let l = log(&app).await;
    let national = report(&app, &l.admin, "").await;
    assert_eq!(national["from"], "2027-01-01");
    assert_eq!(national["to"], "2027-06-01");

    let unit = item(&national, "HN-BADINH");
    assert_eq!(unit["activities"], 3);
    assert_eq!(unit["audience"], 55 + 25 + 30);
    assert_eq!(unit["employers_reached"], 3 + 1);
    assert_eq!(
        unit["by_form"],
        json!({"direct_talk": 25, "conference": 0, "door_to_door": 55, "online": 0,
               "social_media": 30, "short_video": 0})
    );
    // Cường was active in February although his certificate has expired since
    assert_eq!(unit["active_propagandists"], 2);
    assert_eq!(unit["certified_propagandists"], 1);

    let branch = item(&national, "BHXH-HN");
    assert_eq!(branch["activities"], 4);
    assert_eq!(branch["audience"], 210);
    assert_eq!(branch["employers_reached"], 9);
    assert_eq!(branch["by_form"]["conference"], 100);
    assert_eq!(branch["active_propagandists"], 3);
    assert_eq!(branch["certified_propagandists"], 1);

    let bhxh = item(&national, "BHXH");
    assert_eq!(bhxh["activities"], 5);
    assert_eq!(bhxh["audience"], 280);
    assert_eq!(bhxh["by_form"]["short_video"], 70);
    assert_eq!(bhxh["active_propagandists"], 4);
    assert_eq!(bhxh["certified_propagandists"], 2);
    assert_eq!(item(&national, "BHXH-HCM")["activities"], 1);

    // by month over the whole scope, every month of the period, the rejected April entry left out
    let months: Vec<(String, i64, i64)> = national["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_string(),
                m["activities"].as_i64().unwrap(),
                m["audience"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        vec![
            ("2027-01".into(), 0, 0),
            ("2027-02".into(), 1, 30),
            ("2027-03".into(), 1, 25),
            ("2027-04".into(), 1, 70),
            ("2027-05".into(), 2, 155),
            ("2027-06".into(), 0, 0),
        ]
    );

    // the same figures straight from the entries
    let direct = app.count(
        "SELECT coalesce(sum(audience), 0)::bigint AS n FROM outreach_entries WHERE status = 'recorded'",
    );
    assert_eq!(bhxh["audience"], direct);
}

#[actix_web::test]
async fn outreach_of_any_period_or_one_campaign_counts_only_its_entries() {
    let app = spawn_app().await;
    let l = log(&app).await;
    // whole May
    let may = report(&app, &l.w.hn, "from=2027-05-01&to=2027-05-31").await;
    assert_eq!(item(&may, "HN-BADINH")["activities"], 1);
    assert_eq!(item(&may, "HN-BADINH")["audience"], 55);
    assert_eq!(item(&may, "BHXH-HN")["activities"], 2);
    assert_eq!(item(&may, "BHXH-HN")["audience"], 155);
    assert_eq!(item(&may, "BHXH-HN")["active_propagandists"], 2);
    assert_eq!(may["by_month"].as_array().unwrap().len(), 1);
    // loose days on both sides of a whole month: 5 March … 10 May
    let odd = report(&app, &l.w.hn, "from=2027-03-05&to=2027-05-10").await;
    let branch = item(&odd, "BHXH-HN");
    assert_eq!(branch["activities"], 2);
    assert_eq!(branch["audience"], 125);
    assert_eq!(branch["active_propagandists"], 2);
    assert_eq!(branch["by_form"]["direct_talk"], 25);
    assert_eq!(branch["by_form"]["conference"], 100);
    // one day
    let one = report(&app, &l.w.hn, "from=2027-02-10&to=2027-02-10").await;
    assert_eq!(item(&one, "HN-BADINH")["audience"], 30);
    assert_eq!(item(&one, "HN-BADINH")["active_propagandists"], 1);
    // certified on the last day of the period: Cường still was on 1 March
    let early = report(&app, &l.w.hn, "from=2027-01-01&to=2027-02-28").await;
    assert_eq!(item(&early, "HN-BADINH")["certified_propagandists"], 2);
    // the May campaign: Lan's corrected entry only
    let campaign = report(&app, &l.w.hn, &format!("campaign_id={}", l.w.campaign)).await;
    assert_eq!(campaign["campaign_id"], l.w.campaign.to_string());
    assert_eq!(item(&campaign, "BHXH-HN")["activities"], 1);
    assert_eq!(item(&campaign, "BHXH-HN")["audience"], 55);
    assert_eq!(item(&campaign, "BHXH-HN")["active_propagandists"], 1);
    assert_eq!(item(&campaign, "BHXH-HN")["by_form"]["door_to_door"], 55);

    // a period that ends before it starts, a bad format: 400, with the JSON error body
    let backwards = app
        .get(
            "/api/v1/reports/outreach?from=2027-05-01&to=2027-04-30",
            Some(&l.w.hn),
        )
        .await;
    assert_status(&backwards, 400);
    assert_eq!(backwards.error_code(), "validation_failed");
    assert_eq!(backwards.json["error"]["details"][0]["field"], "from");
    assert_status(
        &app.get("/api/v1/reports/outreach?format=pdf", Some(&l.w.hn))
            .await,
        400,
    );
    assert_status(
        &app.get(
            &format!("/api/v1/reports/outreach?campaign_id={}", Uuid::new_v4()),
            Some(&l.w.hn),
        )
        .await,
        404,
    );
}

#[actix_web::test]
async fn outreach_stays_in_the_callers_scope() {
    let app = spawn_app().await;
    let l = log(&app).await;
    // the HR officer of Hà Nội: the branch and its unit, nothing else
    let hr = report(&app, &l.w.hr_hn, "").await;
    let codes: Vec<&str> = hr["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["organization"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["BHXH-HN", "HN-BADINH"]);
    // by month counts the scope only: Khoa's April video is not Hà Nội's
    let april = &hr["by_month"][3];
    assert_eq!(april["month"], "2027-04");
    assert_eq!(april["activities"], 0);
    // another branch's id answers 404; a unit in scope answers its subtree
    let other = app
        .get(
            &format!(
                "/api/v1/reports/outreach?organization_id={}",
                app.org("BHXH-HCM")
            ),
            Some(&l.w.hn),
        )
        .await;
    assert_status(&other, 404);
    let unit = report(
        &app,
        &l.w.hn,
        &format!("organization_id={}", app.org("HN-BADINH")),
    )
    .await;
    assert_eq!(unit["items"].as_array().unwrap().len(), 1);
    // a propagandist may not read reports
    assert_status(
        &app.get("/api/v1/reports/outreach", Some(&l.w.lan_token))
            .await,
        403,
    );
}

#[actix_web::test]
async fn a_report_of_another_branchs_campaign_answers_404_like_the_campaign_itself() {
    let app = spawn_app().await;
    let l = log(&app).await;
    let hcm_campaign = crate::outreach::campaign(
        &app,
        "BHXH-HCM",
        "Tháng vận động HCM",
        (2027, 5, 1),
        (2027, 5, 31),
    );
    // Hà Nội's coordinator does not see Hồ Chí Minh City's campaign, so neither report of it
    let itself = app
        .get(&format!("/api/v1/campaigns/{hcm_campaign}"), Some(&l.w.hn))
        .await;
    assert_status(&itself, 404);
    for path in ["/api/v1/reports/outreach", "/api/v1/reports/coverage"] {
        let answer = app
            .get(&format!("{path}?campaign_id={hcm_campaign}"), Some(&l.w.hn))
            .await;
        assert_status(&answer, 404);
        assert_eq!(answer.error_code(), "not_found");
    }
    // its own coordinator and the administrator read it; Hà Nội reads its own campaign
    let own = report(&app, &l.w.hcm, &format!("campaign_id={hcm_campaign}")).await;
    assert_eq!(own["campaign_id"], hcm_campaign.to_string());
    let admin = report(&app, &l.admin, &format!("campaign_id={hcm_campaign}")).await;
    assert_eq!(admin["campaign_id"], hcm_campaign.to_string());
    let national = report(&app, &l.w.hn, &format!("campaign_id={}", l.w.campaign)).await;
    assert_eq!(item(&national, "BHXH-HN")["activities"], 1);
}

#[actix_web::test]
async fn an_unknown_organisation_answers_404_even_to_an_administrator() {
    let app = spawn_app().await;
    let l = log(&app).await;
    let unknown = Uuid::new_v4();
    for path in [
        "/api/v1/reports/outreach",
        "/api/v1/reports/coverage",
        "/api/v1/outreach",
    ] {
        let answer = app
            .get(&format!("{path}?organization_id={unknown}"), Some(&l.admin))
            .await;
        assert_status(&answer, 404);
        assert_eq!(answer.error_code(), "not_found", "{path}");
    }
    // a known one still answers its subtree
    let unit = report(
        &app,
        &l.admin,
        &format!("organization_id={}", app.org("HN-BADINH")),
    )
    .await;
    assert_eq!(unit["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn outreach_comes_as_csv_and_as_xlsx_holding_the_numbers_of_the_json() {
    let app = spawn_app().await;
    let l = log(&app).await;
    let json = report(&app, &l.w.hn, "").await;
    let csv = app
        .get("/api/v1/reports/outreach?format=csv", Some(&l.w.hn))
        .await;
    assert_status(&csv, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains("outreach-2027-01-01-2027-06-01.csv"));
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "\u{feff}organization_code,organization_name,activities,audience,employers_reached,\
         direct_talk,conference,door_to_door,online,social_media,short_video,\
         active_propagandists,certified_propagandists,from,to"
    );
    assert_eq!(
        lines[2],
        "HN-BADINH,Ủy ban nhân dân phường Ba Đình,3,110,4,25,0,55,0,30,0,2,1,2027-01-01,2027-06-01"
    );
    assert_eq!(lines.len(), 3);

    let xlsx = app
        .get("/api/v1/reports/outreach?format=xlsx", Some(&l.w.hn))
        .await;
    assert_status(&xlsx, 200);
    let items = json["items"].as_array().unwrap();
    let per_org = sheet(&xlsx.body, "Theo đơn vị");
    assert_eq!(per_org.len(), 1 + items.len());
    let forms = sheet(&xlsx.body, "Theo hình thức");
    for ((row, by_form), json) in per_org[1..].iter().zip(&forms[1..]).zip(items) {
        assert_eq!(
            row[0].to_string(),
            json["organization"]["code"].as_str().unwrap()
        );
        for (col, field) in [
            (2, "activities"),
            (3, "audience"),
            (4, "employers_reached"),
            (11, "active_propagandists"),
            (12, "certified_propagandists"),
        ] {
            assert_eq!(number(&row[col]), json[field].as_f64().unwrap(), "{field}");
        }
        for (i, form) in [
            "direct_talk",
            "conference",
            "door_to_door",
            "online",
            "social_media",
            "short_video",
        ]
        .iter()
        .enumerate()
        {
            let expected = json["by_form"][form].as_f64().unwrap();
            assert_eq!(number(&row[5 + i]), expected, "{form}");
            assert_eq!(number(&by_form[2 + i]), expected, "{form}");
        }
    }
    let months = sheet(&xlsx.body, "Theo tháng");
    let by_month = json["by_month"].as_array().unwrap();
    assert_eq!(months.len(), 1 + by_month.len());
    for (row, m) in months[1..].iter().zip(by_month) {
        assert_eq!(row[0].to_string(), m["month"].as_str().unwrap());
        assert_eq!(number(&row[1]), m["activities"].as_f64().unwrap());
        assert_eq!(number(&row[2]), m["audience"].as_f64().unwrap());
    }
}

#[actix_web::test]
async fn the_outreach_page_shows_the_three_tables_of_the_scope_with_download_links() {
    let app = spawn_app().await;
    log(&app).await;
    let hn = sign_in(&app, "dieuphoi.hn").await;
    let page = get_page(&app, "/reports/outreach", &hn).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for words in [
        "Báo cáo kết quả tuyên truyền",
        "Theo đơn vị",
        "Số người được tuyên truyền theo hình thức",
        "Đến từng nhà",
        "Tháng 05/2027",
        "Từ 01/01/2027 đến 01/06/2027",
        "/api/v1/reports/outreach?format=xlsx&amp;from=2027-01-01&#38;to=2027-06-01",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    // Hà Nội's unit: 3 activities, 110 people reached
    assert!(page
        .body
        .contains(r#"data-label="Số hoạt động" class="num">3<"#));
    assert!(page
        .body
        .contains(r#"data-label="Số người được tuyên truyền" class="num">110<"#));
    assert!(
        !page.body.contains("BHXH-HCM"),
        "another province stays out"
    );
    // one month, then a period that ends before it starts: the form again, with the rule, 400
    let may = get_page(&app, "/reports/outreach?from=2027-05-01&to=2027-05-31", &hn).await;
    assert_eq!(may.status, 200);
    assert!(!may.body.contains("Tháng 04/2027"));
    let backwards = get_page(&app, "/reports/outreach?from=2027-05-02&to=2027-05-01", &hn).await;
    assert_eq!(backwards.status, 400);
    assert!(backwards
        .body
        .contains("Ngày bắt đầu phải trước hoặc trùng ngày kết thúc."));
    assert!(backwards.body.contains(r#"value="2027-05-02""#));
    let garbled = get_page(&app, "/reports/outreach?from=hom-qua", &hn).await;
    assert_eq!(garbled.status, 400);
    // the home page links both reports for staff
    let home = get_page(&app, "/", &hn).await;
    assert!(home.body.contains(r#"href="/reports/outreach""#));
}

#[actix_web::test]
async fn the_coverage_page_shows_targets_and_the_share_reached() {
    let app = spawn_app().await;
    let l = log(&app).await;
    crate::reports::target(&app, "HN-BADINH", 2027, 1, 4);
    let hn = sign_in(&app, "dieuphoi.hn").await;
    let page = get_page(&app, "/reports/coverage", &hn).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // Lan alone holds a valid propagandist certificate in the unit today: 1 of 4
    assert!(page.body.contains("25,0 %"), "{}", page.body);
    assert!(page.body.contains("Chỉ tiêu tuyên truyền viên"));
    let of_campaign = get_page(
        &app,
        &format!("/reports/coverage?campaign_id={}", l.w.campaign),
        &hn,
    )
    .await;
    assert_eq!(of_campaign.status, 200);
    assert!(of_campaign
        .body
        .contains(&format!("campaign_id={}", l.w.campaign)));
}

#[actix_web::test]
async fn an_author_active_at_two_organisations_counts_once_above_both() {
    let app = spawn_app().await;
    let l = log(&app).await;
    // Lan moves from the unit to the branch itself and records there too
    let moved = app
        .patch(
            &format!("/api/v1/users/{}", l.w.lan),
            Some(&l.w.hn),
            &json!({"organization_id": app.org("BHXH-HN")}),
        )
        .await;
    assert_status(&moved, 200);
    record(
        &app,
        &l.w.lan_token,
        activity("2027-05-25", "direct_talk", 5, None),
    )
    .await;
    // (period, active at the unit, at the branch, nationally): Lan counts once above both
    for (query, unit, branch, national) in [
        // the year: Lan and Cường at the unit; Minh too at the branch; Khoa nationally
        ("", 2, 3, 4),
        // May: Lan at the unit; Lan (once) and Minh at the branch
        ("from=2027-05-01&to=2027-05-31", 1, 2, 2),
        // 10–28 May: Lan alone, at both
        ("from=2027-05-10&to=2027-05-28", 1, 1, 1),
    ] {
        let r = report(&app, &l.admin, query).await;
        assert_eq!(
            item(&r, "HN-BADINH")["active_propagandists"],
            unit,
            "{query}"
        );
        assert_eq!(
            item(&r, "BHXH-HN")["active_propagandists"],
            branch,
            "{query}"
        );
        assert_eq!(
            item(&r, "BHXH")["active_propagandists"],
            national,
            "{query}"
        );
    }
}
