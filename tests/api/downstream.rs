//! What a master trainer's certificate reaches downstream (issue 12 § 6): the agency that issued
//! it sees every cohort taught and certificate issued on its strength, in whichever branch, but a
//! holder's personal data only where its scope covers the holder; everyone else sees their scope.

use serde_json::{json, Value};

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, spawn_app, TestApp};
use crate::training::{assign, chain, cohort, enrolled, mark, score, session, set_status, Chain};

/// A cohort of Hồ Chí Minh City taught by the chain's master trainer, finalised: Khoa's
/// certificate.
async fn far_cohort(app: &TestApp, c: &Chain) -> Value {
    let id = cohort(app, &c.hcm, c.tier2, "BHXH-HCM", 10).await;
    assert_status(&assign(app, &c.hcm, id, c.master).await, 201);
    let s = session(app, &c.hcm, id, 10, 8, 12).await;
    set_status(app, &c.hcm, id, "open").await;
    assert_status(&set_status(app, &c.hcm, id, "in_progress").await, 200);
    let e = enrolled(app, &c.hcm, id, c.khoa).await;
    mark(
        app,
        &c.hcm,
        s,
        json!([{"enrollment_id": e, "present": true}]),
    )
    .await;
    score(app, &c.hcm, e, 80.0).await;
    let done = app
        .post(
            &format!("/api/v1/cohorts/{id}/finalize"),
            Some(&c.hcm),
            &json!({}),
        )
        .await;
    assert_status(&done, 200);
    done.json["issued"][0].clone()
}

fn downstream_path(c: &Chain) -> String {
    format!("/api/v1/certificates/{}/downstream", c.master_certificate)
}

fn codes(items: &Value) -> Vec<String> {
    let mut codes: Vec<String> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|x| x["organization"]["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

#[actix_web::test]
async fn the_issuing_agency_sees_a_branchs_cohorts_and_certificates_but_not_its_holders() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (hn_cohort, done) = finished_cohort(&app, &c).await;
    let far = far_cohort(&app, &c).await;
    // a holder whose date of birth is on record, to see it is not shown
    app.revoke_in_database(
        far["id"].as_str().unwrap().parse().unwrap(),
        "Cấp nhầm người",
    );
    // Bộ Nội vụ's coordinator: the state agency issued the master trainer's certificate
    let down = app.get(&downstream_path(&c), Some(&c.bnv)).await;
    assert_status(&down, 200);
    assert_eq!(codes(&down.json["cohorts"]), ["BHXH-HCM", "BHXH-HN"]);
    assert_eq!(
        codes(&down.json["certificates"]),
        ["BHXH-HCM", "BHXH-HN", "BHXH-HN", "BHXH-HN"]
    );
    let certificates = down.json["certificates"].as_array().unwrap();
    let hn_serials: Vec<&str> = done.json["issued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["serial"].as_str().unwrap())
        .collect();
    for cert in certificates {
        let serial = cert["serial"].as_str().unwrap();
        if cert["organization"]["code"] == "BHXH-HN" {
            assert!(hn_serials.contains(&serial), "{serial}");
            assert_eq!(cert["status"], "valid");
            assert_eq!(cert["cohort"]["id"], hn_cohort.to_string());
            assert_eq!(cert["cohort"]["starts_on"], "2027-05-10");
        } else {
            assert_eq!(serial, far["serial"].as_str().unwrap());
            assert_eq!(cert["status"], "revoked");
        }
        // the holders work in the branches, outside Bộ Nội vụ's scope
        assert_eq!(cert["holder"], Value::Null);
        assert_eq!(cert["holder_name"], Value::Null);
    }
    let body = String::from_utf8_lossy(&down.body);
    for name in ["hang nt", "tuan lv", "ngoc bt", "khoa dm", "date_of_birth"] {
        assert!(!body.contains(name), "{name} leaked");
    }
    // an administrator sees the holders too
    let admin = app.get(&downstream_path(&c), Some(&c.admin)).await;
    assert_eq!(admin.json["certificates"].as_array().unwrap().len(), 4);
    assert!(admin.json["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["holder"]["full_name"].is_string()));
}

#[actix_web::test]
async fn a_branch_coordinator_reading_its_own_master_trainer_sees_only_its_scope() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    finished_cohort(&app, &c).await;
    far_cohort(&app, &c).await;
    // the master trainer works at the Hà Nội branch: its coordinator may read the certificate,
    // but what it reaches in Hồ Chí Minh City stays out of sight
    let hn = app.get(&downstream_path(&c), Some(&c.hn)).await;
    assert_status(&hn, 200);
    assert_eq!(codes(&hn.json["cohorts"]), ["BHXH-HN"]);
    assert_eq!(
        codes(&hn.json["certificates"]),
        ["BHXH-HN", "BHXH-HN", "BHXH-HN"]
    );
    assert!(hn.json["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["holder_name"].is_string()));
    // the other branch cannot read the certificate at all
    assert_status(&app.get(&downstream_path(&c), Some(&c.hcm)).await, 404);
    // HR of the branch reads it within the scope, a trainee not at all
    let hr = app.get(&downstream_path(&c), Some(&c.hr_hn)).await;
    assert_eq!(hr.json["certificates"].as_array().unwrap().len(), 3);
    assert_status(
        &app.get(&downstream_path(&c), Some(&c.hang_token)).await,
        404,
    );
}
