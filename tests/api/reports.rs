//! The coverage report: counts per organisation, rolled up the tree, in the caller's scope.

use serde_json::{json, Value};

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, spawn_app};
use crate::training::chain;

fn item<'a>(report: &'a Value, code: &str) -> &'a Value {
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
