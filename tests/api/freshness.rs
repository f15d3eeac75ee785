//! What a request sees of its caller is never stale: the organisation tree a process keeps in
//! memory, and the account read once per request, follow every change at the very next request
//! — including changes made behind this process's back (another node, or SQL).

use serde_json::json;

use crate::harness::{assert_status, spawn_app};

#[actix_web::test]
async fn a_new_unit_under_a_coordinators_branch_is_in_their_scope_at_once() {
    let app = spawn_app().await;
    app.person(
        "dieuphoi.hn",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    app.person("quantri", "BHXH-HN", &["admin"], "public_employee");
    let token = app.login("dieuphoi.hn").await;
    let admin = app.login("quantri").await;
    // the tree is now cached by this process
    let branch = app.org("BHXH-HN");
    assert_status(
        &app.get(&format!("/api/v1/organizations/{branch}"), Some(&token))
            .await,
        200,
    );

    // added through the API ...
    let created = app
        .post(
            "/api/v1/organizations",
            Some(&admin),
            &json!({"code": "HN-MOI", "name": "BHXH quận Mới", "kind": "unit", "parent_id": branch}),
        )
        .await;
    assert_status(&created, 201);
    let id = created.json["id"].as_str().unwrap().to_string();
    assert_status(
        &app.get(&format!("/api/v1/organizations/{id}"), Some(&token))
            .await,
        200,
    );

    // ... and behind the process's back, as another node would
    let other = app.unit("HN-KHAC", "BHXH quận Khác", "HN-MOI");
    assert_status(
        &app.get(&format!("/api/v1/organizations/{other}"), Some(&token))
            .await,
        200,
    );
}

#[actix_web::test]
async fn a_unit_moved_out_of_a_branch_leaves_its_scope_at_once() {
    let app = spawn_app().await;
    app.person(
        "dieuphoi.hn",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    let unit = app.unit("HN-DI", "BHXH quận Đi", "BHXH-HN");
    let token = app.login("dieuphoi.hn").await;
    let path = format!("/api/v1/organizations/{unit}");
    assert_status(&app.get(&path, Some(&token)).await, 200);

    let elsewhere = app.org("BHXH-HCM");
    {
        use cascade::db::schema::organizations;
        use diesel::prelude::*;
        diesel::update(organizations::table.find(unit))
            .set(organizations::parent_id.eq(elsewhere))
            .execute(&mut app.db())
            .unwrap();
    }
    assert_status(&app.get(&path, Some(&token)).await, 404);
}

#[actix_web::test]
async fn a_role_taken_away_in_the_database_stops_the_very_next_request() {
    let app = spawn_app().await;
    let me = app.person(
        "dieuphoi.hn",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    let colleague = app.person("dong.nghiep", "BHXH-HN", &["trainee"], "civil_servant");
    let token = app.login("dieuphoi.hn").await;
    let path = format!("/api/v1/users/{colleague}");
    assert_status(&app.get(&path, Some(&token)).await, 200);
    let answer = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(answer.json["roles"], json!(["coordinator"]));

    {
        use cascade::db::schema::user_roles;
        use diesel::prelude::*;
        diesel::update(user_roles::table.filter(user_roles::user_id.eq(me)))
            .set(user_roles::role.eq("trainee"))
            .execute(&mut app.db())
            .unwrap();
    }
    assert_status(&app.get(&path, Some(&token)).await, 404);
    let answer = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(answer.json["roles"], json!(["trainee"]));
}

#[actix_web::test]
async fn a_deactivated_or_signed_out_user_is_out_at_the_very_next_request() {
    let app = spawn_app().await;
    let hang = app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let first = app.login("hang.nt").await;
    let second = app.login("hang.nt").await;
    assert_status(&app.get("/api/v1/me", Some(&first)).await, 200);
    assert_status(&app.get("/api/v1/me", Some(&second)).await, 200);

    assert_status(
        &app.post("/api/v1/auth/logout", Some(&first), &json!({}))
            .await,
        204,
    );
    assert_status(&app.get("/api/v1/me", Some(&first)).await, 401);
    assert_status(&app.get("/api/v1/me", Some(&second)).await, 200);

    {
        use cascade::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.find(hang))
            .set(users::active.eq(false))
            .execute(&mut app.db())
            .unwrap();
    }
    assert_status(&app.get("/api/v1/me", Some(&second)).await, 401);
    assert_status(
        &app.get(&format!("/api/v1/users/{hang}/records"), Some(&second))
            .await,
        401,
    );
}
