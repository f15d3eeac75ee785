//! The coverage report: counts per organisation, rolled up the tree, in the caller's scope.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, date, spawn_app, CertificateBuilder, TestApp};
use crate::training::chain;

pub fn item<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["organization"]["code"] == code)
        .unwrap_or_else(|| panic!("no item for {code} in {report}"))
}

#[actix_web::test]
async fn coverage_counts_valid_certificates_for_an_organisation_and_those_above_it() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let hn = app.org("BHXH-HN");
    let path = format!("/api/v1/reports/coverage?organization_id={hn}");
    let report = app.get(&path, Some(&c.admin)).await;
    assert_status(&report, 200);
    assert_eq!(report.json["as_of"], "2027-06-01");
    let codes: Vec<&str> = report.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["organization"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["BHXH-HN", "HN-BADINH"]);
    let branch = item(&report.json, "BHXH-HN");
    assert_eq!(branch["master_trainers_valid"], 1);
    assert_eq!(branch["propagandists_valid"], 3);
    assert_eq!(branch["completions_this_year"], 3);
    assert_eq!(branch["needing_refresher"], 0);
    assert_eq!(item(&report.json, "HN-BADINH")["master_trainers_valid"], 0);
    assert_eq!(item(&report.json, "HN-BADINH")["propagandists_valid"], 3);

    // a revocation and a newer curriculum show at once
    let first = done.json["issued"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/certificates/{first}/revoke"),
        Some(&c.hn),
        &json!({"reason": "sai sót"}),
    )
    .await;
    crate::training::newer_curriculum(&app, &c).await;
    let after = app.get(&path, Some(&c.admin)).await;
    assert_eq!(item(&after.json, "BHXH-HN")["propagandists_valid"], 2);
    assert_eq!(item(&after.json, "BHXH-HN")["needing_refresher"], 2);
    // the newer curriculum came on 1 June: the day before, nobody needed a refresher yet
    let before = app
        .get(&format!("{path}&as_of=2027-05-31"), Some(&c.admin))
        .await;
    assert_status(&before, 200);
    assert_eq!(item(&before.json, "BHXH-HN")["needing_refresher"], 0);
    // the national body sees the branch's people too
    let national = app
        .get(
            &format!(
                "/api/v1/reports/coverage?organization_id={}",
                app.org("BHXH")
            ),
            Some(&c.admin),
        )
        .await;
    assert_eq!(item(&national.json, "BHXH")["propagandists_valid"], 2);

    // two years on, the propagandists' certificates have expired; within 90 days they show as expiring
    let later = app
        .get(&format!("{path}&as_of=2030-01-01"), Some(&c.admin))
        .await;
    assert_eq!(item(&later.json, "BHXH-HN")["propagandists_valid"], 0);
    let soon = app
        .get(&format!("{path}&as_of=2029-04-01"), Some(&c.admin))
        .await;
    assert_eq!(item(&soon.json, "BHXH-HN")["certificates_expiring_90d"], 2);
}

#[actix_web::test]
async fn coverage_comes_as_csv_and_xlsx_and_stays_in_scope() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    finished_cohort(&app, &c).await;
    let csv = app
        .get("/api/v1/reports/coverage?format=csv", Some(&c.hr_hn))
        .await;
    assert_status(&csv, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert!(text.starts_with("\u{feff}organization_code,organization_name,master_trainers_valid"));
    assert!(text.contains("BHXH-HN,Bảo hiểm xã hội Thành phố Hà Nội,1,3,"));
    // the HR officer of Hà Nội sees Hà Nội and what lies below it, nothing else
    assert_eq!(text.lines().count(), 3, "{text}");
    let xlsx = app
        .get("/api/v1/reports/coverage?format=xlsx", Some(&c.hn))
        .await;
    assert_status(&xlsx, 200);
    assert!(xlsx.body.starts_with(b"PK"));
    let archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    assert!(archive
        .file_names()
        .any(|n| n.is_ok_and(|n| n == "xl/worksheets/sheet1.xml")));

    assert_status(
        &app.get("/api/v1/reports/coverage", Some(&c.hang_token))
            .await,
        403,
    );
    assert_status(
        &app.get(
            &format!(
                "/api/v1/reports/coverage?organization_id={}",
                app.org("BHXH-HCM")
            ),
            Some(&c.hn),
        )
        .await,
        404,
    );
    assert_status(
        &app.get("/api/v1/reports/coverage?format=pdf", Some(&c.hn))
            .await,
        400,
    );
    let all = app.get("/api/v1/reports/coverage", Some(&c.admin)).await;
    assert!(all.json["items"].as_array().unwrap().len() >= 38);
}

/// Ends a certificate on a given day (revoked or superseded then), as revocation and reissue
/// do, keeping the reports' summary in step.
pub fn end_certificate(app: &TestApp, id: Uuid, status: &str, ended_on: NaiveDate) {
    let mut conn = app.db();
    #[derive(diesel::QueryableByName)]
    struct Holder {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        holder_id: Uuid,
    }
    let h: Holder = diesel::sql_query(
        "UPDATE certificates SET status = $2, ended_on = $3,
             revoked_at = CASE WHEN $2 = 'revoked' THEN now() END,
             revocation_reason = CASE WHEN $2 = 'revoked' THEN 'thử nghiệm' END
         WHERE id = $1 RETURNING holder_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Text, _>(status)
    .bind::<diesel::sql_types::Date, _>(ended_on)
    .get_result(&mut conn)
    .expect("end certificate");
    cascade::db::coverage_summary::holders_changed(&mut conn, &[h.holder_id]).expect("summary");
}

/// Sets an organisation's targets for a year.
pub fn target(app: &TestApp, org: &str, year: i32, masters: i32, propagandists: i32) {
    use cascade::db::schema::organization_targets as t;
    diesel::insert_into(t::table)
        .values((
            t::organization_id.eq(app.org(org)),
            t::year.eq(year),
            t::master_trainers.eq(masters),
            t::propagandists.eq(propagandists),
        ))
        .execute(&mut app.db())
        .expect("target");
}

/// The cells of one sheet of an XLSX answer, as calamine reads them.
pub fn sheet(body: &[u8], name: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(body.to_vec())).expect("xlsx");
    let range = book.worksheet_range(name).expect("sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

pub fn number(cell: &calamine::Data) -> f64 {
    match cell {
        calamine::Data::Float(f) => *f,
        calamine::Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// Hà Nội's unit with four propagandists (one revoked on 1 April 2027, one corrected on
/// 1 February 2027, one expired at the end of 2026, one certified only from September 2027),
/// a master trainer at the branch itself, a propagandist in Hồ Chí Minh City.
struct Handmade {
    /// Hồ Chí Minh City's propagandist's certificate, valid 2027-01-01 … 2029-01-01.
    khoa_certificate: Uuid,
    hr_hn: String,
    admin: String,
}

async fn handmade(app: &TestApp) -> Handmade {
    app.unit("HN-BADINH", "Ủy ban nhân dân phường Ba Đình", "BHXH-HN");
    app.unit(
        "HCM-BENTHANH",
        "Ủy ban nhân dân phường Bến Thành",
        "BHXH-HCM",
    );
    app.person("quantri", "BNV", &["admin"], "civil_servant");
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let an = app.person("an.tt", "HN-BADINH", &["trainee"], "civil_servant");
    let an_certificate = CertificateBuilder::propagandist(an)
        .issued_on(date(2027, 1, 1))
        .valid_until(date(2029, 1, 1))
        .insert(app);
    end_certificate(app, an_certificate, "revoked", date(2027, 4, 1));
    let binh = app.person("binh.lt", "HN-BADINH", &["trainee"], "civil_servant");
    let old = CertificateBuilder::propagandist(binh)
        .issued_on(date(2026, 6, 1))
        .valid_until(date(2028, 6, 1))
        .insert(app);
    end_certificate(app, old, "superseded", date(2027, 2, 1));
    CertificateBuilder::propagandist(binh)
        .issued_on(date(2027, 2, 1))
        .valid_until(date(2028, 6, 1))
        .correcting(old)
        .insert(app);
    let chi = app.person("chi.nt", "HN-BADINH", &["trainee"], "civil_servant");
    CertificateBuilder::propagandist(chi)
        .issued_on(date(2025, 1, 1))
        .valid_until(date(2026, 12, 31))
        .insert(app);
    let dung = app.person("dung.pv", "HN-BADINH", &["trainee"], "civil_servant");
    CertificateBuilder::propagandist(dung)
        .issued_on(date(2027, 9, 1))
        .valid_until(date(2029, 9, 1))
        .insert(app);
    let giang = app.person("giang.nv", "BHXH-HN", &["trainee"], "public_employee");
    CertificateBuilder::master_trainer(giang)
        .issued_on(date(2026, 1, 1))
        .valid_until(date(2028, 1, 1))
        .insert(app);
    let khoa = app.person("khoa.dm", "HCM-BENTHANH", &["trainee"], "civil_servant");
    let khoa_certificate = CertificateBuilder::propagandist(khoa).insert(app);
    Handmade {
        khoa_certificate,
        hr_hn: app.login("nhansu.hn").await,
        admin: app.login("quantri").await,
    }
}

async fn coverage_on(app: &TestApp, token: &str, as_of: &str) -> Value {
    let answer = app
        .get(
            &format!("/api/v1/reports/coverage?as_of={as_of}"),
            Some(token),
        )
        .await;
    assert_status(&answer, 200);
    answer.json
}

#[actix_web::test]
async fn coverage_on_a_past_day_counts_what_was_valid_then_each_holder_once() {
    let app = spawn_app().await;
    let h = handmade(&app).await;
    // (day, propagandists valid at the unit, expiring within 90 days at the unit)
    let expected = [
        // the expired one on its last day; the corrected one by its first certificate
        ("2026-12-31", 2, 1),
        // the revoked one before its revocation, the corrected one once
        ("2027-01-15", 2, 0),
        ("2027-02-01", 2, 0),
        ("2027-03-31", 2, 0),
        // revoked from 1 April
        ("2027-04-01", 1, 0),
        // the future-dated one from September
        ("2027-10-01", 2, 0),
        ("2028-05-01", 2, 1),
    ];
    for (day, propagandists, expiring) in expected {
        let report = coverage_on(&app, &h.admin, day).await;
        let unit = item(&report, "HN-BADINH");
        assert_eq!(unit["propagandists_valid"], propagandists, "{day}: {unit}");
        assert_eq!(unit["certificates_expiring_90d"], expiring, "{day}: {unit}");
        assert_eq!(unit["master_trainers_valid"], 0, "{day}");
        // the branch counts its unit's people and its own master trainer
        let branch = item(&report, "BHXH-HN");
        assert_eq!(branch["propagandists_valid"], propagandists, "{day}");
        let master = i64::from(("2026-01-01"..="2028-01-01").contains(&day));
        assert_eq!(branch["master_trainers_valid"], master, "{day}");
        // the national body counts Hồ Chí Minh City's propagandist (valid 2027-01-01 … 2029-01-01) too
        let hcm = i64::from(("2027-01-01"..="2029-01-01").contains(&day));
        assert_eq!(
            item(&report, "BHXH")["propagandists_valid"],
            propagandists + hcm,
            "{day}"
        );
    }
    // the master trainer's certificate ends 2028-01-01: within 90 days of 2027-11-01
    let report = coverage_on(&app, &h.admin, "2027-11-01").await;
    assert_eq!(item(&report, "BHXH-HN")["certificates_expiring_90d"], 1);
    assert_eq!(item(&report, "HN-BADINH")["certificates_expiring_90d"], 0);
    // a revocation today (1 June 2027) through the API still leaves yesterday as it was
    let revoked = app
        .post(
            &format!("/api/v1/certificates/{}/revoke", h.khoa_certificate),
            Some(&h.admin),
            &json!({"reason": "Cấp nhầm người"}),
        )
        .await;
    assert_status(&revoked, 200);
    let yesterday = coverage_on(&app, &h.admin, "2027-05-31").await;
    assert_eq!(item(&yesterday, "HCM-BENTHANH")["propagandists_valid"], 1);
    // with Hà Nội's one (the corrected certificate; the other revoked in April)
    assert_eq!(item(&yesterday, "BHXH")["propagandists_valid"], 2);
    let today = coverage_on(&app, &h.admin, "2027-06-01").await;
    assert_eq!(item(&today, "HCM-BENTHANH")["propagandists_valid"], 0);
    assert_eq!(item(&today, "BHXH")["propagandists_valid"], 1);
}

#[actix_web::test]
async fn coverage_carries_each_organisations_targets_and_the_share_reached() {
    let app = spawn_app().await;
    let h = handmade(&app).await;
    target(&app, "BHXH-HN", 2027, 2, 4);
    target(&app, "HN-BADINH", 2026, 1, 1);
    let report = coverage_on(&app, &h.hr_hn, "2027-03-15").await;
    let branch = item(&report, "BHXH-HN");
    assert_eq!(
        branch["targets"],
        json!({"master_trainers": 2, "propagandists": 4})
    );
    assert_eq!(
        branch["share"],
        json!({"master_trainers": 0.5, "propagandists": 0.5})
    );
    // the unit's target is for 2026: none for 2027
    let unit = item(&report, "HN-BADINH");
    assert_eq!(
        unit["targets"],
        json!({"master_trainers": null, "propagandists": null})
    );
    assert_eq!(
        unit["share"],
        json!({"master_trainers": null, "propagandists": null})
    );
    let last_year = coverage_on(&app, &h.hr_hn, "2026-12-31").await;
    let unit = item(&last_year, "HN-BADINH");
    assert_eq!(unit["targets"]["propagandists"], 1);
    assert_eq!(unit["share"]["propagandists"], 2.0);
    assert_eq!(unit["share"]["master_trainers"], 0.0);

    // the CSV carries the targets and shares; the XLSX the same numbers as numbers
    let csv = app
        .get(
            "/api/v1/reports/coverage?as_of=2027-03-15&format=csv",
            Some(&h.hr_hn),
        )
        .await;
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "\u{feff}organization_code,organization_name,master_trainers_valid,propagandists_valid,\
         certificates_expiring_90d,needing_refresher,completions_this_year,cohorts_planned,as_of,\
         target_master_trainers,target_propagandists,share_master_trainers,share_propagandists,\
         campaign_id"
    );
    assert!(
        text.contains(
            "\nBHXH-HN,Bảo hiểm xã hội Thành phố Hà Nội,1,2,0,0,0,0,2027-03-15,2,4,0.5,0.5,\n"
        ),
        "{text}"
    );
    let xlsx = app
        .get(
            "/api/v1/reports/coverage?as_of=2027-03-15&format=xlsx",
            Some(&h.hr_hn),
        )
        .await;
    assert_status(&xlsx, 200);
    let rows = sheet(&xlsx.body, "Độ phủ");
    assert_eq!(rows.len(), 1 + report["items"].as_array().unwrap().len());
    for (row, json) in rows[1..].iter().zip(report["items"].as_array().unwrap()) {
        assert_eq!(
            row[0].to_string(),
            json["organization"]["code"].as_str().unwrap()
        );
        for (col, field) in [
            (2, "master_trainers_valid"),
            (3, "propagandists_valid"),
            (4, "certificates_expiring_90d"),
            (5, "needing_refresher"),
            (6, "completions_this_year"),
            (7, "cohorts_planned"),
        ] {
            assert_eq!(number(&row[col]), json[field].as_f64().unwrap(), "{field}");
        }
        match json["share"]["propagandists"].as_f64() {
            Some(share) => assert_eq!(number(&row[12]), share),
            None => assert_eq!(row[12], calamine::Data::Empty),
        }
    }
}

#[actix_web::test]
async fn coverage_of_a_campaign_counts_only_its_cohorts() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (cohort, _) = finished_cohort(&app, &c).await;
    let may = crate::outreach::campaign(
        &app,
        "BHXH-HN",
        "Tháng vận động 2027",
        (2027, 5, 1),
        (2027, 5, 31),
    );
    let other = crate::outreach::campaign(&app, "BHXH-HN", "Đợt khác", (2027, 8, 1), (2027, 8, 31));
    diesel::sql_query("UPDATE cohorts SET campaign_id = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Uuid, _>(may)
        .bind::<diesel::sql_types::Uuid, _>(cohort)
        .execute(&mut app.db())
        .unwrap();
    let hn = app.org("BHXH-HN");
    let path = |campaign: Uuid| {
        format!("/api/v1/reports/coverage?organization_id={hn}&campaign_id={campaign}")
    };
    let of_may = app.get(&path(may), Some(&c.hn)).await;
    assert_status(&of_may, 200);
    assert_eq!(of_may.json["campaign_id"], may.to_string());
    assert_eq!(item(&of_may.json, "BHXH-HN")["completions_this_year"], 3);
    // certificates are counted whatever the campaign
    assert_eq!(item(&of_may.json, "BHXH-HN")["propagandists_valid"], 3);
    let of_other = app.get(&path(other), Some(&c.hn)).await;
    assert_eq!(item(&of_other.json, "BHXH-HN")["completions_this_year"], 0);
    assert_status(&app.get(&path(Uuid::new_v4()), Some(&c.hn)).await, 404);
}
