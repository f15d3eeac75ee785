//! The CCCD at rest (issue 14, points 2 and 3): sealed in the database and in its dumps, unique
//! by its blind index, masked wherever people are listed or shown, revealed in full only to
//! staff in scope with an audit event, kept whole through a rotation of the data key, and
//! sealed at start-up where an older release left it in clear.

use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::authorization::World;
use crate::harness::{
    assert_status, fresh_database, spawn_app, spawn_app_on, spawn_app_with, TestApp,
};
use crate::pages::{get_page, sign_in};

const CCCD: &str = "001190000123";
const MASKED: &str = "001******123";
const OTHER_CCCD: &str = "079090000777";

fn new_person(username: &str, org: Uuid, national_id: &str) -> Value {
    json!({
        "username": username, "full_name": "Trần Thị Bích", "organization_id": org,
        "roles": ["trainee"], "category": "public_employee",
        "date_of_birth": "1990-02-08", "national_id": national_id,
        "password": crate::harness::PASSWORD
    })
}

async fn add_person(app: &TestApp, token: &str, username: &str, national_id: &str) -> Uuid {
    let answer = app
        .post(
            "/api/v1/users",
            Some(token),
            &new_person(username, app.org("HN-BADINH"), national_id),
        )
        .await;
    assert_status(&answer, 201);
    answer.json["id"].as_str().unwrap().parse().unwrap()
}

#[derive(QueryableByName, Debug)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    national_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
    national_id_cipher: Option<Vec<u8>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
    national_id_index: Option<Vec<u8>>,
}

fn sealed_rows(app: &TestApp) -> Vec<Sealed> {
    diesel::sql_query(
        "SELECT id, national_id, national_id_cipher, national_id_index FROM users \
         WHERE national_id IS NOT NULL OR national_id_cipher IS NOT NULL ORDER BY id",
    )
    .load(&mut app.db())
    .unwrap()
}

fn sealed_row(app: &TestApp, id: Uuid) -> Sealed {
    diesel::sql_query(
        "SELECT id, national_id, national_id_cipher, national_id_index FROM users WHERE id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .get_result(&mut app.db())
    .unwrap()
}

#[derive(QueryableByName, Debug)]
struct Event {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    actor_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    object_type: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    object_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    subject_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    details: String,
}

fn events(app: &TestApp, action: &str) -> Vec<Event> {
    diesel::sql_query(
        "SELECT actor_id, object_type, object_id, subject_id, details::text AS details \
         FROM audit_events WHERE action = $1 ORDER BY occurred_at, id",
    )
    .bind::<diesel::sql_types::Text, _>(action)
    .load(&mut app.db())
    .unwrap()
}

fn id_of(app: &TestApp, username: &str) -> Uuid {
    use cascade::db::schema::users;
    users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(&mut app.db())
        .unwrap()
}

#[actix_rt::test]
async fn a_database_dump_holds_no_national_id_in_clear() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    add_person(&app, &w.hr, "bich.tt", CCCD).await;
    // through the CSV import and a change of CCCD too
    let csv =
        "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n\
               lan.pt,Phạm Thị Lan,1990-03-01,001190000456,,HN-BADINH,official,trainee\n";
    let imported = app
        .post_raw("/api/v1/users/import", Some(&w.hr), "text/csv", csv.into())
        .await;
    assert_status(&imported, 200);
    assert_eq!(imported.json["created"], 1, "{}", imported.json);
    let changed = app
        .patch(
            &format!("/api/v1/users/{}", w.neighbour_id),
            Some(&w.hr),
            &json!({"date_of_birth": "1990-05-05", "national_id": OTHER_CCCD}),
        )
        .await;
    assert_status(&changed, 200);
    assert_eq!(sealed_rows(&app).len(), 3);

    let bindir = cascade::db::cluster::PostgresCluster::find_server_programs()
        .unwrap_or_else(|e| panic!("pg_dump is needed (apt-get install postgresql): {e}"));
    let dump = std::process::Command::new(bindir.join("pg_dump"))
        .arg("--no-owner")
        .arg("--dbname")
        .arg(&app.database_url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run pg_dump from {}: {e}", bindir.display()));
    assert!(
        dump.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8(dump.stdout).unwrap();
    // the dump is whole: the people and their sealed numbers are in it
    assert!(dump.contains("bich.tt") && dump.contains("lan.pt"));
    assert!(dump.contains("national_id_cipher"));
    for national_id in [CCCD, "001190000456", OTHER_CCCD] {
        assert!(!dump.contains(national_id), "{national_id} in the dump");
        assert!(
            !dump.contains(&hex(national_id.as_bytes())),
            "{national_id} in hex"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[actix_rt::test]
async fn a_duplicate_national_id_is_refused_under_encryption() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let holder = add_person(&app, &w.hr, "bich.tt", CCCD).await;

    let again = app
        .post(
            "/api/v1/users",
            Some(&w.coordinator),
            &new_person("bich.tt2", app.org("HN-BADINH"), CCCD),
        )
        .await;
    assert_status(&again, 409);
    assert_eq!(again.error_code(), "conflict");
    assert_eq!(
        again.json["error"]["message"],
        "Số CCCD này đã thuộc về một người khác."
    );
    assert!(!String::from_utf8_lossy(&again.body).contains(CCCD));
    // nothing written, one conflict on the record, without the number
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'bich.tt2'"),
        0
    );
    let conflicts = events(&app, "national_id_conflict");
    assert_eq!(conflicts.len(), 1);
    assert!(!conflicts[0].details.contains(CCCD));
    assert_eq!(sealed_rows(&app).len(), 1);

    // a change to someone else's CCCD is refused the same way and leaves them as they were
    let before = sealed_row(&app, w.neighbour_id);
    let changed = app
        .patch(
            &format!("/api/v1/users/{}", w.neighbour_id),
            Some(&w.hr),
            &json!({"date_of_birth": "1990-02-08", "national_id": CCCD}),
        )
        .await;
    assert_status(&changed, 409);
    assert_eq!(events(&app, "national_id_conflict").len(), 2);
    let after = sealed_row(&app, w.neighbour_id);
    assert!(after.national_id_cipher.is_none() && after.national_id_index.is_none());
    assert_eq!(before.national_id_index, after.national_id_index);
    // the holder keeps theirs, and may be saved with it again
    let same = app
        .patch(
            &format!("/api/v1/users/{holder}"),
            Some(&w.hr),
            &json!({"national_id": CCCD}),
        )
        .await;
    assert_status(&same, 200);
    assert_eq!(events(&app, "national_id_conflict").len(), 2);

    // the database holds the rule itself: the same blind index cannot be stored twice
    let index = sealed_row(&app, holder).national_id_index.unwrap();
    let twice = diesel::sql_query(
        "UPDATE users SET national_id_cipher = national_id_cipher, national_id_index = $1 \
         WHERE id = $2",
    )
    .bind::<diesel::sql_types::Bytea, _>(&index)
    .bind::<diesel::sql_types::Uuid, _>(w.neighbour_id)
    .execute(&mut app.db());
    assert!(twice.is_err());
}

#[actix_rt::test]
async fn lists_and_exports_show_the_national_id_masked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let bich = add_person(&app, &w.hr, "bich.tt", CCCD).await;

    let list = app.get("/api/v1/users?q=bich", Some(&w.hr)).await;
    assert_status(&list, 200);
    assert_eq!(list.json["items"][0]["id"], json!(bich));
    assert_eq!(list.json["items"][0]["national_id"], MASKED);
    let one = app
        .get(&format!("/api/v1/users/{bich}"), Some(&w.coordinator))
        .await;
    assert_status(&one, 200);
    assert_eq!(one.json["national_id"], MASKED);
    // the person's own profile too
    let own = app.login("bich.tt").await;
    let me = app.get("/api/v1/me", Some(&own)).await;
    assert_status(&me, 200);
    assert_eq!(me.json["national_id"], MASKED);
    // a person without one shows none
    let hang = app
        .get(&format!("/api/v1/users/{}", w.trainee_id), Some(&w.hr))
        .await;
    assert_eq!(hang.json["national_id"], Value::Null);
    for answer in [&list, &one, &me] {
        assert!(!String::from_utf8_lossy(&answer.body).contains(CCCD));
    }

    // the staff pages and the list exports: never the full number
    app.master_certificate(
        bich,
        crate::harness::date(2027, 1, 10),
        crate::harness::date(2030, 1, 10),
        "valid",
    );
    let hr = sign_in(&app, "nhansu.hn").await;
    let people = get_page(&app, "/people?q=bich", &hr).await;
    assert_eq!(people.status, 200);
    assert!(people.body.contains("Trần Thị Bích"));
    let page = get_page(&app, &format!("/people/{bich}"), &hr).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(MASKED), "{}", page.body);
    let csv = get_page(&app, "/certificates/export.csv", &hr).await;
    assert_eq!(csv.status, 200);
    // the list holds Bích's certificate (under the name it was signed with)
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
    let xlsx = get_page(&app, "/certificates/export.xlsx", &hr).await;
    assert_eq!(xlsx.status, 200);
    for body in [&people.body, &page.body, &csv.body, &xlsx.body] {
        assert!(!body.contains(CCCD));
    }
}

#[actix_rt::test]
async fn revealing_a_national_id_is_audited_as_a_read() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    app.person("dieuphoi.hcm", "BHXH-HCM", &["coordinator"], "official");
    let far_coordinator = app.login("dieuphoi.hcm").await;
    let bich = add_person(&app, &w.hr, "bich.tt", CCCD).await;
    let reveal = |id: Uuid| format!("/api/v1/users/{id}/national-id");

    let shown = app
        .post(&reveal(bich), Some(&w.coordinator), &json!({}))
        .await;
    assert_status(&shown, 200);
    assert_eq!(shown.json, json!({"national_id": CCCD}));
    assert_eq!(shown.header("cache-control").as_deref(), Some("no-store"));
    let revealed = events(&app, cascade::domain::privacy::NATIONAL_ID_REVEALED);
    assert_eq!(revealed.len(), 1);
    let event = &revealed[0];
    assert_eq!(event.actor_id, Some(id_of(&app, "dieuphoi.hn")));
    assert_eq!(event.object_type, "user");
    assert_eq!(event.object_id, Some(bich.to_string()));
    assert_eq!(event.subject_id, Some(bich));
    assert!(!event.details.contains(CCCD));
    assert!(cascade::domain::privacy::READ_ACTIONS.contains(&"national_id_revealed"));

    // HR and administrators too; a person without a CCCD answers null, and that look counts
    let by_hr = app.post(&reveal(bich), Some(&w.hr), &json!({})).await;
    assert_eq!(by_hr.json["national_id"], CCCD);
    let by_admin = app.post(&reveal(bich), Some(&w.admin), &json!({})).await;
    assert_eq!(by_admin.json["national_id"], CCCD);
    let none = app
        .post(&reveal(w.trainee_id), Some(&w.hr), &json!({}))
        .await;
    assert_status(&none, 200);
    assert_eq!(none.json, json!({"national_id": null}));
    assert_eq!(events(&app, "national_id_revealed").len(), 4);

    // a trainee may not (403, even for themselves), staff outside the scope find no one (404),
    // an unknown person is 404; none of them reads anything, so none is recorded as a read
    let own = app.login("bich.tt").await;
    let refused = app.post(&reveal(bich), Some(&own), &json!({})).await;
    assert_status(&refused, 403);
    assert_eq!(refused.error_code(), "forbidden");
    let other = app.post(&reveal(bich), Some(&w.trainee), &json!({})).await;
    assert_status(&other, 403);
    let far = app
        .post(&reveal(bich), Some(&far_coordinator), &json!({}))
        .await;
    assert_status(&far, 404);
    let unknown = app
        .post(&reveal(Uuid::new_v4()), Some(&w.admin), &json!({}))
        .await;
    assert_status(&unknown, 404);
    let anonymous = app.post(&reveal(bich), None, &json!({})).await;
    assert_status(&anonymous, 401);
    for answer in [&refused, &other, &far, &unknown, &anonymous] {
        assert!(!String::from_utf8_lossy(&answer.body).contains(CCCD));
    }
    assert_eq!(events(&app, "national_id_revealed").len(), 4);
}

#[actix_rt::test]
async fn revealing_on_the_persons_page_shows_the_number_once_and_records_it() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let bich = add_person(&app, &w.hr, "bich.tt", CCCD).await;
    let hr = sign_in(&app, "nhansu.hn").await;
    let page = get_page(&app, &format!("/people/{bich}"), &hr).await;
    assert!(page.body.contains("Hiện số CCCD"), "{}", page.body);
    assert!(!page.body.contains(CCCD));
    let shown =
        crate::pages::post_form(&app, &format!("/people/{bich}/national-id"), &hr, &[]).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains(CCCD));
    assert!(shown.body.contains("được ghi lại"), "{}", shown.body);
    assert_eq!(events(&app, "national_id_revealed").len(), 1);
    // shown once: the page itself still masks it
    let again = get_page(&app, &format!("/people/{bich}"), &hr).await;
    assert!(!again.body.contains(CCCD));
    // a form posted from elsewhere is refused and reveals nothing
    let forged = app
        .client
        .post(app.url(&format!("/people/{bich}/national-id")))
        .insert_header(("cookie", hr.clone()))
        .insert_header(("sec-fetch-site", "cross-site"))
        .insert_header(("origin", "https://evil.example"))
        .send_form(&[("x", "y")])
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(events(&app, "national_id_revealed").len(), 1);
}

#[actix_rt::test]
async fn rotating_the_data_key_keeps_every_national_id_and_uniqueness() {
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("data-key");
    cascade::secrets::load_or_create(&key_file, 32).unwrap();
    let key_setting = key_file.to_string_lossy().to_string();
    let (name, url) = fresh_database();
    let app = spawn_app_with(
        name.clone(),
        url.clone(),
        &[("CASCADE_DATA_KEY_FILE", &key_setting)],
    )
    .await;
    let w = World::build(&app).await;
    let bich = add_person(&app, &w.hr, "bich.tt", CCCD).await;
    app.give_national_id_with(&key_file, w.neighbour_id, "001085000042");
    let before = sealed_rows(&app);
    assert_eq!(before.len(), 2);
    let old_secret = std::fs::read(&key_file).unwrap();
    app.stop().await;

    let mut conn = diesel::PgConnection::establish(&url).unwrap();
    let resealed = cascade::service::people::rotate_data_key(&mut conn, &key_file).unwrap();
    assert_eq!(resealed, 2);
    let new_secret = std::fs::read(&key_file).unwrap();
    assert_ne!(new_secret, old_secret);
    assert!(!cascade::privacy::previous_key_path(&key_file).exists());
    let new_key = cascade::privacy::DataKey::from_secret(&new_secret).unwrap();
    let old_key = cascade::privacy::DataKey::from_secret(&old_secret).unwrap();
    let after = sealed_rows(&app);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.id, a.id);
        let sealed = a.national_id_cipher.as_ref().unwrap();
        assert_ne!(b.national_id_cipher, a.national_id_cipher);
        assert_ne!(b.national_id_index, a.national_id_index);
        assert_eq!(
            cascade::privacy::DataKey::sealed_by(sealed),
            Some(new_key.id())
        );
        assert!(old_key.open_national_id(sealed).is_err());
        assert!(a.national_id.is_none());
    }

    // the service, started again with the rotated key, finds every number and every duplicate
    let restarted = spawn_app_with(name, url, &[("CASCADE_DATA_KEY_FILE", &key_setting)]).await;
    let hr = restarted.login("nhansu.hn").await;
    let shown = restarted
        .post(
            &format!("/api/v1/users/{bich}/national-id"),
            Some(&hr),
            &json!({}),
        )
        .await;
    assert_eq!(shown.json["national_id"], CCCD);
    let neighbour = restarted
        .post(
            &format!("/api/v1/users/{}/national-id", w.neighbour_id),
            Some(&hr),
            &json!({}),
        )
        .await;
    assert_eq!(neighbour.json["national_id"], "001085000042");
    let listed = restarted
        .get(&format!("/api/v1/users/{bich}"), Some(&hr))
        .await;
    assert_eq!(listed.json["national_id"], MASKED);
    let duplicate = restarted
        .post(
            "/api/v1/users",
            Some(&hr),
            &new_person("bich.again", restarted.org("HN-BADINH"), CCCD),
        )
        .await;
    assert_status(&duplicate, 409);
}

#[actix_rt::test]
async fn existing_plain_national_ids_are_encrypted_at_startup() {
    let (name, url) = fresh_database();
    {
        // as an older release stored it: the number in clear
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(
            "INSERT INTO users (username, full_name, name_search, date_of_birth, organization_id, \
             category, national_id, password_hash) \
             SELECT 'cu.lv', 'Lê Văn Cũ', 'le van cu', DATE '1985-04-12', id, 'official', \
             '001085012345', NULL FROM organizations WHERE code = 'BHXH-HN'",
        )
        .execute(&mut conn)
        .unwrap();
    }
    let app = spawn_app_on(name, url).await;
    let w = World::build(&app).await;
    let cu = id_of(&app, "cu.lv");
    let row = sealed_row(&app, cu);
    assert_eq!(row.national_id, None);
    let sealed = row.national_id_cipher.expect("sealed at start-up");
    let key = app.data_key();
    assert_eq!(key.open_national_id(&sealed).unwrap(), "001085012345");
    assert_eq!(
        row.national_id_index,
        Some(key.national_id_index("001085012345"))
    );
    // the plain column cannot take a number again
    let plain = diesel::sql_query("UPDATE users SET national_id = '001085012345' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(cu)
        .execute(&mut app.db());
    assert!(plain.is_err());
    // and the sealed number works as any other: shown masked, unique, revealed
    let one = app.get(&format!("/api/v1/users/{cu}"), Some(&w.hr)).await;
    assert_eq!(one.json["national_id"], "001******345");
    let duplicate = app
        .patch(
            &format!("/api/v1/users/{}", w.neighbour_id),
            Some(&w.hr),
            &json!({"national_id": "001085012345"}),
        )
        .await;
    assert_status(&duplicate, 409);
    // a second start finds nothing left to seal and changes nothing
    let mut conn = app.db();
    let again =
        cascade::service::people::seal_plain_national_ids(&mut conn, &app.data_key()).unwrap();
    assert_eq!(again, 0);
    assert_eq!(sealed_row(&app, cu).national_id_cipher.unwrap(), sealed);
    // a start with another key is refused before it writes anything
    let stranger = cascade::privacy::DataKey::from_secret(&[7u8; 32]).unwrap();
    assert!(cascade::service::people::seal_plain_national_ids(&mut conn, &stranger).is_err());
}

#[actix_rt::test]
async fn a_corrected_birth_date_is_checked_against_the_sealed_national_id() {
    use cascade::db::schema::certificates;
    let app = spawn_app().await;
    let c = crate::training::chain(&app).await;
    // Hằng was born on 12 April 1985 (the fixtures' date)
    app.give_national_id(c.hang, "001185012345");
    crate::certificates::finished_cohort(&app, &c).await;
    let certificate: Uuid = certificates::table
        .filter(certificates::holder_id.eq(c.hang))
        .filter(certificates::tier.eq("propagandist"))
        .select(certificates::id)
        .first(&mut app.db())
        .unwrap();
    let reissue = format!("/api/v1/certificates/{certificate}/reissue");
    let wrong = app
        .post(
            &reissue,
            Some(&c.hn),
            &json!({"date_of_birth": "1990-04-12"}),
        )
        .await;
    assert_status(&wrong, 400);
    assert_eq!(wrong.json["error"]["details"][0]["field"], "date_of_birth");
    assert!(!String::from_utf8_lossy(&wrong.body).contains("001185012345"));
    let right = app
        .post(
            &reissue,
            Some(&c.hn),
            &json!({"date_of_birth": "1985-04-21"}),
        )
        .await;
    assert_status(&right, 201);
}
