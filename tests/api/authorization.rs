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
