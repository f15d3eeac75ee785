//! The authorisation matrix: every endpoint × role × (own scope, other province, other person),
//! with the exact status expected. Grows with every endpoint.

use awc::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{spawn_app, TestApp};

/// The roles of the matrix, each signed in: an administrator at the state agency, a coordinator
/// and an HR officer of BHXH Hà Nội, and a trainee of a unit under it.
pub struct World {
    pub admin: String,
    pub coordinator: String,
    pub hr: String,
    pub trainee: String,
    pub trainee_id: Uuid,
    /// Another trainee of the same unit (for "other person").
    pub neighbour_id: Uuid,
    /// A trainee in Hồ Chí Minh City (other province).
    pub far_person_id: Uuid,
    pub hn_unit: Uuid,
    pub hn_branch: Uuid,
    pub hcm_branch: Uuid,
}

impl World {
    pub async fn build(app: &TestApp) -> World {
        let hn_unit = app.unit("HN-BADINH", "Ủy ban nhân dân phường Ba Đình", "BHXH-HN");
        app.unit(
            "HCM-BENTHANH",
            "Ủy ban nhân dân phường Bến Thành",
            "BHXH-HCM",
        );
        app.person("quantri", "BNV", &["admin"], "civil_servant");
        app.person(
            "dieuphoi.hn",
            "BHXH-HN",
            &["coordinator"],
            "public_employee",
        );
        app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
        let trainee_id = app.person("hang.nt", "HN-BADINH", &["trainee"], "civil_servant");
        let neighbour_id = app.person("tuan.lv", "HN-BADINH", &["trainee"], "official");
        let far_person_id = app.person("khoa.dm", "HCM-BENTHANH", &["trainee"], "civil_servant");
        World {
            admin: app.login("quantri").await,
            coordinator: app.login("dieuphoi.hn").await,
            hr: app.login("nhansu.hn").await,
            trainee: app.login("hang.nt").await,
            trainee_id,
            neighbour_id,
            far_person_id,
            hn_unit,
            hn_branch: app.org("BHXH-HN"),
            hcm_branch: app.org("BHXH-HCM"),
        }
    }

    pub fn tokens(&self) -> [(&'static str, &str); 4] {
        [
            ("admin", &self.admin),
            ("coordinator", &self.coordinator),
            ("hr", &self.hr),
            ("trainee", &self.trainee),
        ]
    }
}

/// Makes a request body for a role.
pub type BodyFor = Box<dyn Fn(&str) -> Value>;

/// One row: a request, and the status for admin, coordinator, HR officer, trainee.
pub struct Case {
    pub name: &'static str,
    pub method: Method,
    pub path: String,
    /// Built per role, so that creations do not collide.
    pub body: Option<BodyFor>,
    pub expect: [u16; 4],
}

pub fn case(name: &'static str, method: Method, path: String, expect: [u16; 4]) -> Case {
    Case {
        name,
        method,
        path,
        body: None,
        expect,
    }
}

pub fn case_with(
    name: &'static str,
    method: Method,
    path: String,
    body: impl Fn(&str) -> Value + 'static,
    expect: [u16; 4],
) -> Case {
    Case {
        name,
        method,
        path,
        body: Some(Box::new(body)),
        expect,
    }
}

/// Runs every case for every role; reports all mismatches at once.
pub async fn run(app: &TestApp, world: &World, cases: Vec<Case>) {
    let mut mismatches = Vec::new();
    for c in &cases {
        for (i, (role, token)) in world.tokens().into_iter().enumerate() {
            let body = c.body.as_ref().map(|b| b(role));
            let answer = app
                .request(c.method.clone(), &c.path, Some(token), body.as_ref())
                .await;
            if answer.status.as_u16() != c.expect[i] {
                mismatches.push(format!(
                    "{} as {role}: expected {}, got {} {}",
                    c.name,
                    c.expect[i],
                    answer.status.as_u16(),
                    String::from_utf8_lossy(&answer.body)
                ));
            }
        }
        // and nobody without a token
        let body = c.body.as_ref().map(|b| b("anonymous"));
        let anonymous = app
            .request(c.method.clone(), &c.path, None, body.as_ref())
            .await;
        if anonymous.status.as_u16() != 401 {
            mismatches.push(format!("{} anonymous: got {}", c.name, anonymous.status));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

fn person_body(org: Uuid) -> impl Fn(&str) -> Value {
    move |role: &str| {
        json!({
            "username": format!("new.{role}.{}", &Uuid::new_v4().simple().to_string()[..8]),
            "full_name": "Trần Thị Bích", "organization_id": org,
            "roles": ["trainee"], "category": "public_employee"
        })
    }
}

fn org_body(parent: Uuid) -> impl Fn(&str) -> Value {
    move |role: &str| {
        json!({
            "code": format!("U-{}-{}", role.to_uppercase(), &Uuid::new_v4().simple().to_string()[..6].to_uppercase()),
            "name": "Ủy ban nhân dân xã thử nghiệm", "kind": "unit", "parent_id": parent
        })
    }
}

#[actix_web::test]
async fn identity_endpoints_answer_each_role_and_scope_exactly() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let csv =
        "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n";
    let cases = vec![
        case(
            "GET /me",
            Method::GET,
            "/api/v1/me".into(),
            [200, 200, 200, 200],
        ),
        case(
            "GET /organizations",
            Method::GET,
            "/api/v1/organizations".into(),
            [200, 200, 200, 200],
        ),
        case(
            "GET own unit",
            Method::GET,
            format!("/api/v1/organizations/{}", w.hn_unit),
            [200, 200, 200, 200],
        ),
        case(
            "GET own branch",
            Method::GET,
            format!("/api/v1/organizations/{}", w.hn_branch),
            [200, 200, 200, 404],
        ),
        case(
            "GET other province",
            Method::GET,
            format!("/api/v1/organizations/{}", w.hcm_branch),
            [200, 404, 404, 404],
        ),
        case_with(
            "POST organization in scope",
            Method::POST,
            "/api/v1/organizations".into(),
            org_body(w.hn_branch),
            [201, 403, 403, 403],
        ),
        case_with(
            "PATCH own branch",
            Method::PATCH,
            format!("/api/v1/organizations/{}", w.hn_branch),
            |_| json!({"signer_name": "Trần Văn Ký"}),
            [200, 403, 403, 404],
        ),
        case_with(
            "PATCH other province",
            Method::PATCH,
            format!("/api/v1/organizations/{}", w.hcm_branch),
            |_| json!({"signer_name": "Lê Thị Phương"}),
            [200, 404, 404, 404],
        ),
        case_with(
            "POST user in scope",
            Method::POST,
            "/api/v1/users".into(),
            person_body(w.hn_unit),
            [201, 201, 201, 403],
        ),
        case_with(
            "POST user in other province",
            Method::POST,
            "/api/v1/users".into(),
            person_body(w.hcm_branch),
            [201, 404, 404, 403],
        ),
        case(
            "GET /users",
            Method::GET,
            "/api/v1/users".into(),
            [200, 200, 200, 403],
        ),
        case(
            "GET /users?organization_id=other province",
            Method::GET,
            format!("/api/v1/users?organization_id={}", w.hcm_branch),
            [200, 404, 404, 403],
        ),
        case(
            "GET self",
            Method::GET,
            format!("/api/v1/users/{}", w.trainee_id),
            [200, 200, 200, 200],
        ),
        case(
            "GET other person in scope",
            Method::GET,
            format!("/api/v1/users/{}", w.neighbour_id),
            [200, 200, 200, 404],
        ),
        case(
            "GET person in other province",
            Method::GET,
            format!("/api/v1/users/{}", w.far_person_id),
            [200, 404, 404, 404],
        ),
        case_with(
            "PATCH self",
            Method::PATCH,
            format!("/api/v1/users/{}", w.trainee_id),
            |_| json!({"email": "hang@example.vn"}),
            [200, 200, 200, 403],
        ),
        case_with(
            "PATCH other person in scope",
            Method::PATCH,
            format!("/api/v1/users/{}", w.neighbour_id),
            |_| json!({"email": "tuan@example.vn"}),
            [200, 200, 200, 404],
        ),
        case_with(
            "PATCH person in other province",
            Method::PATCH,
            format!("/api/v1/users/{}", w.far_person_id),
            |_| json!({"email": "khoa@example.vn"}),
            [200, 404, 404, 404],
        ),
    ];
    run(&app, &w, cases).await;

    // the CSV import takes a raw body: checked by hand for each role
    for (role, token, expected) in [
        ("admin", &w.admin, 200),
        ("coordinator", &w.coordinator, 200),
        ("hr", &w.hr, 200),
        ("trainee", &w.trainee, 403),
    ] {
        let body = format!("{csv}imp.{role},Lê Văn Import,,,,HN-BADINH,official,trainee\n");
        let answer = app
            .post_raw(
                "/api/v1/users/import",
                Some(token),
                "text/csv",
                body.into_bytes(),
            )
            .await;
        assert_eq!(answer.status.as_u16(), expected, "import as {role}");
    }
}

#[actix_web::test]
async fn training_endpoints_answer_each_role_and_scope_exactly() {
    use crate::harness::{assert_status, date};
    use crate::training::{cohort, course, enrolled};
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let tier2 = course(&app, &w.admin, "TTV-2024", "propagandist").await;
    let hn = cohort(&app, &w.coordinator, tier2, "BHXH-HN", 50).await;
    let hcm = cohort(&app, &w.admin, tier2, "BHXH-HCM", 50).await;
    // one master trainer per role, so that each role's assignment is new
    let masters: Vec<Uuid> = ["admin", "coordinator", "hr", "trainee"]
        .iter()
        .map(|r| {
            let id = app.person(
                &format!("gv.{r}"),
                "BHXH-HN",
                &["trainee"],
                "public_employee",
            );
            app.master_certificate(id, date(2026, 1, 1), date(2029, 1, 1), "valid");
            id
        })
        .collect();
    let learners: Vec<Uuid> = ["admin", "coordinator", "hr", "trainee", "anonymous"]
        .iter()
        .map(|r| app.person(&format!("hv.{r}"), "HN-BADINH", &["trainee"], "official"))
        .collect();
    let own = enrolled(&app, &w.coordinator, hn, w.trainee_id).await;
    assert_status(
        &app.patch(
            &format!("/api/v1/cohorts/{hn}"),
            Some(&w.coordinator),
            &json!({"status": "open"}),
        )
        .await,
        200,
    );
    let session = app
        .post(&format!("/api/v1/cohorts/{hn}/sessions"), Some(&w.coordinator),
              &json!({"starts_at": "2027-05-10T07:00:00+07:00", "ends_at": "2027-05-10T08:00:00+07:00", "topic": "Mở đầu"}))
        .await
        .json["id"].as_str().unwrap().to_string();
    let idx = |role: &str| {
        ["admin", "coordinator", "hr", "trainee", "anonymous"]
            .iter()
            .position(|r| *r == role)
            .unwrap_or(4)
    };
    let master_for = move |role: &str| json!({"user_id": masters[idx(role).min(3)]});
    let learner_for = move |role: &str| json!({"user_id": learners[idx(role)]});
    let session_for = move |role: &str| {
        let h = 9 + idx(role);
        json!({"starts_at": format!("2027-05-10T{h:02}:00:00+07:00"), "ends_at": format!("2027-05-10T{h:02}:30:00+07:00"), "topic": "Chính sách BHXH"})
    };
    let course_for = |role: &str| {
        json!({
            "code": format!("C-{}", role.to_uppercase()), "title": "Khóa học", "tier": "propagandist",
            "curriculum_version": "Luật BHXH 2024", "required_hours": 8, "min_attendance_percent": 70,
            "pass_score": 50, "certificate_validity_months": 24
        })
    };
    let (hn_org, hcm_org) = (w.hn_branch, w.hcm_branch);
    let cases = vec![
        case_with(
            "POST /courses",
            Method::POST,
            "/api/v1/courses".into(),
            course_for,
            [201, 403, 403, 403],
        ),
        case(
            "GET /courses",
            Method::GET,
            "/api/v1/courses".into(),
            [200, 200, 200, 200],
        ),
        case(
            "GET /courses/{id}",
            Method::GET,
            format!("/api/v1/courses/{tier2}"),
            [200, 200, 200, 200],
        ),
        case_with(
            "POST cohort in scope",
            Method::POST,
            "/api/v1/cohorts".into(),
            move |_| crate::training::cohort_body(tier2, hn_org, 10),
            [201, 201, 403, 403],
        ),
        case_with(
            "POST cohort in other province",
            Method::POST,
            "/api/v1/cohorts".into(),
            move |_| crate::training::cohort_body(tier2, hcm_org, 10),
            [201, 404, 403, 403],
        ),
        case(
            "GET /cohorts",
            Method::GET,
            "/api/v1/cohorts".into(),
            [200, 200, 200, 200],
        ),
        case(
            "GET own cohort",
            Method::GET,
            format!("/api/v1/cohorts/{hn}"),
            [200, 200, 200, 200],
        ),
        case(
            "GET cohort in other province",
            Method::GET,
            format!("/api/v1/cohorts/{hcm}"),
            [200, 404, 404, 404],
        ),
        case_with(
            "PATCH own cohort",
            Method::PATCH,
            format!("/api/v1/cohorts/{hn}"),
            |_| json!({"capacity": 40}),
            [200, 200, 403, 403],
        ),
        case_with(
            "PATCH cohort in other province",
            Method::PATCH,
            format!("/api/v1/cohorts/{hcm}"),
            |_| json!({"capacity": 40}),
            [200, 404, 404, 404],
        ),
        case_with(
            "POST instructor",
            Method::POST,
            format!("/api/v1/cohorts/{hn}/instructors"),
            master_for.clone(),
            [201, 201, 403, 403],
        ),
        case_with(
            "POST instructor in other province",
            Method::POST,
            format!("/api/v1/cohorts/{hcm}/instructors"),
            master_for,
            [201, 404, 404, 404],
        ),
        case(
            "DELETE instructor not assigned",
            Method::DELETE,
            format!("/api/v1/cohorts/{hn}/instructors/{}", Uuid::new_v4()),
            [404, 404, 403, 403],
        ),
        case_with(
            "POST session",
            Method::POST,
            format!("/api/v1/cohorts/{hn}/sessions"),
            session_for,
            [201, 201, 403, 403],
        ),
        case_with(
            "POST session in other province",
            Method::POST,
            format!("/api/v1/cohorts/{hcm}/sessions"),
            session_for,
            [201, 404, 404, 404],
        ),
        case_with(
            "POST enrolment",
            Method::POST,
            format!("/api/v1/cohorts/{hn}/enrollments"),
            learner_for,
            [201, 201, 403, 403],
        ),
        case(
            "GET enrolments",
            Method::GET,
            format!("/api/v1/cohorts/{hn}/enrollments"),
            [200, 200, 200, 200],
        ),
        case(
            "GET enrolments in other province",
            Method::GET,
            format!("/api/v1/cohorts/{hcm}/enrollments"),
            [200, 404, 404, 404],
        ),
        case(
            "DELETE unknown enrolment",
            Method::DELETE,
            format!("/api/v1/cohorts/{hn}/enrollments/{}", Uuid::new_v4()),
            [404, 404, 403, 403],
        ),
        case_with(
            "PUT attendance",
            Method::PUT,
            format!("/api/v1/sessions/{session}/attendance"),
            move |_| json!([{"enrollment_id": own, "present": true}]),
            [200, 200, 403, 403],
        ),
        case_with(
            "PUT score",
            Method::PUT,
            format!("/api/v1/enrollments/{own}/score"),
            |_| json!({"score": 88}),
            [200, 200, 403, 403],
        ),
        case(
            "POST finalize (cohort only open)",
            Method::POST,
            format!("/api/v1/cohorts/{hn}/finalize"),
            [409, 409, 403, 403],
        ),
        case(
            "POST finalize in other province",
            Method::POST,
            format!("/api/v1/cohorts/{hcm}/finalize"),
            [409, 404, 404, 404],
        ),
        case(
            "GET own records",
            Method::GET,
            format!("/api/v1/users/{}/records", w.trainee_id),
            [200, 200, 200, 200],
        ),
        case(
            "GET records of other person",
            Method::GET,
            format!("/api/v1/users/{}/records", w.neighbour_id),
            [200, 200, 200, 404],
        ),
        case(
            "GET records in other province",
            Method::GET,
            format!("/api/v1/users/{}/records", w.far_person_id),
            [200, 404, 404, 404],
        ),
    ];
    run(&app, &w, cases).await;
}

#[actix_web::test]
async fn certificate_endpoints_answer_each_role_and_scope_exactly() {
    use crate::harness::assert_status;
    let app = spawn_app().await;
    let c = crate::training::chain(&app).await;
    let (cohort, done) = crate::certificates::finished_cohort(&app, &c).await;
    let issued = done.json["issued"].as_array().unwrap().clone();
    let own = issued
        .iter()
        .find(|x| x["holder"]["id"] == c.hang.to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = issued
        .iter()
        .find(|x| x["holder"]["id"] == c.tuan.to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // a certificate of Hồ Chí Minh City, out of Hà Nội's reach
    let far = {
        use crate::training::{assign, cohort, enrolled, mark, score, session, set_status};
        let id = cohort(&app, &c.hcm, c.tier2, "BHXH-HCM", 10).await;
        assert_status(&assign(&app, &c.hcm, id, c.master).await, 201);
        let s = session(&app, &c.hcm, id, 10, 8, 12).await;
        set_status(&app, &c.hcm, id, "open").await;
        assert_status(&set_status(&app, &c.hcm, id, "in_progress").await, 200);
        let e = enrolled(&app, &c.hcm, id, c.khoa).await;
        mark(
            &app,
            &c.hcm,
            s,
            json!([{"enrollment_id": e, "present": true}]),
        )
        .await;
        score(&app, &c.hcm, e, 80.0).await;
        let done = app
            .post(
                &format!("/api/v1/cohorts/{id}/finalize"),
                Some(&c.hcm),
                &json!({}),
            )
            .await;
        done.json["issued"][0]["id"].as_str().unwrap().to_string()
    };
    let w = World {
        admin: c.admin.clone(),
        coordinator: c.hn.clone(),
        hr: c.hr_hn.clone(),
        trainee: c.hang_token.clone(),
        trainee_id: c.hang,
        neighbour_id: c.tuan,
        far_person_id: c.khoa,
        hn_unit: app.org("HN-BADINH"),
        hn_branch: app.org("BHXH-HN"),
        hcm_branch: app.org("BHXH-HCM"),
    };
    let hcm_org = app.org("BHXH-HCM");
    let cases = vec![
        case(
            "GET coverage",
            Method::GET,
            "/api/v1/reports/coverage".into(),
            [200, 200, 200, 403],
        ),
        case(
            "GET coverage of other province",
            Method::GET,
            format!("/api/v1/reports/coverage?organization_id={hcm_org}"),
            [200, 404, 404, 403],
        ),
        case(
            "GET /certificates",
            Method::GET,
            "/api/v1/certificates".into(),
            [200, 200, 200, 200],
        ),
        case(
            "GET own certificate",
            Method::GET,
            format!("/api/v1/certificates/{own}"),
            [200, 200, 200, 200],
        ),
        case(
            "GET other person's certificate",
            Method::GET,
            format!("/api/v1/certificates/{other}"),
            [200, 200, 200, 404],
        ),
        case(
            "GET certificate in other province",
            Method::GET,
            format!("/api/v1/certificates/{far}"),
            [200, 404, 404, 404],
        ),
        case(
            "GET own PDF",
            Method::GET,
            format!("/api/v1/certificates/{own}/pdf"),
            [200, 200, 200, 200],
        ),
        case(
            "GET other person's PDF",
            Method::GET,
            format!("/api/v1/certificates/{other}/pdf"),
            [200, 200, 200, 404],
        ),
        case(
            "GET PDF in other province",
            Method::GET,
            format!("/api/v1/certificates/{far}/pdf"),
            [200, 404, 404, 404],
        ),
        case(
            "GET cohort ZIP",
            Method::GET,
            format!("/api/v1/cohorts/{cohort}/certificates.zip"),
            [200, 200, 200, 403],
        ),
        case(
            "GET downstream",
            Method::GET,
            format!("/api/v1/certificates/{}/downstream", c.master_certificate),
            [200, 200, 200, 404],
        ),
        case_with(
            "POST revoke in other province",
            Method::POST,
            format!("/api/v1/certificates/{far}/revoke"),
            |_| json!({"reason": "thử"}),
            [200, 404, 404, 404],
        ),
        case_with(
            "POST reissue own (trainee may not)",
            Method::POST,
            format!("/api/v1/certificates/{own}/reissue"),
            |_| json!({}),
            [201, 409, 403, 403],
        ),
        case_with(
            "POST revoke other person's",
            Method::POST,
            format!("/api/v1/certificates/{other}/revoke"),
            |_| json!({"reason": "thử"}),
            [200, 409, 403, 404],
        ),
    ];
    run(&app, &w, cases).await;
    // what a master-trainer certificate reaches downstream is shown only within the caller's scope
    let path = format!("/api/v1/certificates/{}/downstream", c.master_certificate);
    let all = app.get(&path, Some(&c.admin)).await;
    let hn = app.get(&path, Some(&c.hn)).await;
    // Hà Nội's three, the correction reissued above, and Hồ Chí Minh City's one
    assert_eq!(all.json["certificates"].as_array().unwrap().len(), 5);
    assert_eq!(hn.json["certificates"].as_array().unwrap().len(), 4);
    assert_eq!(all.json["cohorts"].as_array().unwrap().len(), 2);
    assert_eq!(hn.json["cohorts"].as_array().unwrap().len(), 1);
    // public: anyone, no token
    let code = issued[2]["verification_code"].as_str().unwrap();
    assert_status(&app.get(&format!("/api/v1/verify/{code}"), None).await, 200);
    assert_status(&app.get("/api/v1/keys", None).await, 200);
}
