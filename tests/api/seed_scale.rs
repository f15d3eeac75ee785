//! `cascade seed-scale`: the national data set has the promised shape, its rows obey the rules
//! the service enforces, the same seed gives the same data, and a database with people in it is
//! left alone unless forced.

use cascade::seed_scale::{self, Options, Report};
use serde_json::Value;

use crate::harness::{assert_status, date, fresh_database, spawn_app, TestApp};

const PEOPLE: u64 = 2_000;
const PASSWORD: &str = "mat-khau-quy-mo-2027";

fn options(people: u64, seed: u64) -> Options {
    Options {
        people,
        seed,
        // the tests' app acts as of 1 June 2027
        today: date(2027, 6, 1),
        password: Some(PASSWORD.into()),
        force: false,
        progress: false,
    }
}

async fn seed_into(
    url: &str,
    issuer: &cascade::certificates::Issuer,
    options: Options,
) -> Result<Report, String> {
    let (url, issuer) = (url.to_string(), issuer.clone());
    actix_web::rt::task::spawn_blocking(move || seed_scale::run(&url, &issuer, &options))
        .await
        .expect("seeding thread")
}

async fn seeded(people: u64, seed: u64) -> (TestApp, Report) {
    let app = spawn_app().await;
    let report = seed_into(&app.database_url, &app.issuer, options(people, seed))
        .await
        .expect("seed-scale");
    (app, report)
}

fn between(what: &str, value: i64, low: i64, high: i64) {
    assert!(
        (low..=high).contains(&value),
        "{what}: {value} not within {low}..={high}"
    );
}

#[actix_web::test]
async fn seed_scale_builds_the_promised_national_shape() {
    let (app, report) = seeded(PEOPLE, 7).await;
    let n = PEOPLE as i64;

    // people: N, plus the administrator and one coordinator per branch who can sign in
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), n + 35);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE password_hash IS NOT NULL"),
        35
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE national_id_cipher IS NOT NULL"),
        0
    );
    assert_eq!(report.people as i64, n);
    // the reference bodies and their units, ~375 organisations, every unit under a branch
    assert_eq!(app.count("SELECT count(*) AS n FROM organizations"), 375);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM organizations u JOIN organizations b ON b.id = u.parent_id \
             WHERE u.kind = 'unit' AND (b.kind <> 'branch' OR b.province_code <> u.province_code)"
        ),
        0
    );
    // ~1 % master trainers (at least one per branch), certified by the state agency
    let masters = app.count(
        "SELECT count(DISTINCT holder_id) AS n FROM certificates c \
         JOIN organizations o ON o.id = c.issuer_id \
         WHERE c.tier = 'master_trainer' AND o.kind = 'state_agency'",
    );
    assert_eq!(masters, 34);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates c JOIN organizations o ON o.id = c.issuer_id \
             WHERE c.tier = 'master_trainer' AND o.kind <> 'state_agency'"
        ),
        0
    );
    // cohorts over the last three years: 0.03 N, with at least three per branch at this size
    let cohorts = app.count("SELECT count(*) AS n FROM cohorts");
    between("cohorts", cohorts, n * 3 / 100, 110);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM cohorts WHERE starts_on < DATE '2027-06-01' - 1465 \
             OR starts_on > DATE '2027-06-01' + 60"
        ),
        0
    );
    // about three enrolments a person, completed and failed among them
    let enrolments = app.count("SELECT count(*) AS n FROM enrollments");
    between("enrolments", enrolments, n * 25 / 10, n * 33 / 10);
    assert!(app.count("SELECT count(*) AS n FROM enrollments WHERE status = 'failed'") > n / 10);
    // ~1 certificate a person: 3 % revoked, 2 % superseded, some expired, most valid for years
    let certificates = app.count("SELECT count(*) AS n FROM certificates");
    between("certificates", certificates, n * 9 / 10, n * 11 / 10);
    let revoked = app.count("SELECT count(*) AS n FROM certificates WHERE status = 'revoked'");
    between(
        "revoked",
        revoked,
        certificates / 100,
        certificates * 5 / 100,
    );
    let superseded =
        app.count("SELECT count(*) AS n FROM certificates WHERE status = 'superseded'");
    between(
        "superseded",
        superseded,
        certificates / 200,
        certificates * 4 / 100,
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE supersedes_id IS NOT NULL"),
        superseded
    );
    assert!(
        app.count(
            "SELECT count(*) AS n FROM certificates \
             WHERE status = 'valid' AND valid_until < DATE '2027-06-01'"
        ) > n / 10,
        "some certificates have expired"
    );
    assert!(
        app.count(
            "SELECT count(*) AS n FROM certificates \
             WHERE status = 'valid' AND valid_until > DATE '2028-06-01'"
        ) > n / 20,
        "some stay valid beyond a year"
    );
    assert!(
        app.count(
            "SELECT count(*) AS n FROM certificates \
             WHERE status = 'valid' AND valid_until >= DATE '2027-06-01'"
        ) > n / 3,
        "a good share is in force today"
    );
    // 2 outreach entries a person, ~2 % rejected, each rejection with the revision it keeps
    let outreach = app.count("SELECT count(*) AS n FROM outreach_entries");
    assert_eq!(outreach, 2 * n);
    let rejected =
        app.count("SELECT count(*) AS n FROM outreach_entries WHERE status = 'rejected'");
    between("rejected", rejected, outreach / 200, outreach * 4 / 100);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM outreach_revisions r JOIN outreach_entries e \
             ON e.id = r.entry_id JOIN users c ON c.id = r.revised_by \
             JOIN user_roles k ON k.user_id = c.id AND k.role = 'coordinator' \
             JOIN organizations b ON b.id = c.organization_id \
             JOIN organizations o ON o.id = e.organization_id \
             WHERE e.status = 'rejected' AND r.version = 1 AND e.version = 2 \
             AND r.previous ->> 'status' = 'recorded' AND b.province_code = o.province_code"
        ),
        rejected
    );
    assert!(
        app.count(
            "SELECT count(*) AS n FROM outreach_entries e JOIN campaigns c ON c.id = e.campaign_id \
             WHERE e.held_on BETWEEN c.starts_on AND c.ends_on"
        ) > 0,
        "some outreach belongs to a May campaign"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM outreach_entries e JOIN campaigns c ON c.id = e.campaign_id \
             WHERE e.held_on NOT BETWEEN c.starts_on AND c.ends_on"
        ),
        0
    );
    // a May campaign per year, yearly targets for every organisation with people
    assert_eq!(
        app.count(
            "SELECT count(DISTINCT extract(year FROM starts_on))::bigint AS n FROM campaigns \
             WHERE extract(month FROM starts_on) = 5 AND name LIKE 'Tháng vận động%'"
        ),
        5
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM organization_targets WHERE year BETWEEN 2025 AND 2027"
        ),
        report.targets as i64
    );
    assert!(report.targets >= 3 * 300, "{} targets", report.targets);
    // the load itself is in the audit trail, with what it wrote
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'data_set_seeded' \
             AND actor_id IS NULL AND (details ->> 'people')::bigint = 2000 \
             AND (details ->> 'certificates')::bigint = (SELECT count(*) FROM certificates)"
        ),
        1
    );
}

#[actix_web::test]
async fn seeded_rows_obey_the_rules_of_issuance_and_outreach() {
    let (app, _) = seeded(PEOPLE, 11).await;

    // serials: unique, and per issuer and year numbered 1..n without gaps, as the counters say
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM (SELECT issuer_id, serial_year FROM certificates \
             GROUP BY 1, 2 HAVING max(serial_number) <> count(*) \
             OR count(DISTINCT serial_number) <> count(*)) g"
        ),
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificate_counters k WHERE k.last_number <> \
             (SELECT count(*) FROM certificates c WHERE c.issuer_id = k.issuer_id \
              AND c.serial_year = k.year)"
        ),
        0
    );
    // holder, course and cohort are those of a completed enrolment; issued after the cohort
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates c JOIN enrollments e ON e.id = c.enrollment_id \
             JOIN cohorts h ON h.id = e.cohort_id \
             WHERE e.user_id <> c.holder_id OR h.id <> c.cohort_id OR h.course_id <> c.course_id \
             OR e.status <> 'completed' OR h.status <> 'completed' \
             OR c.issuer_id <> h.organization_id OR c.issued_on < h.ends_on"
        ),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE enrollment_id IS NULL"),
        0
    );
    // every tier-2 certificate's lineage: the master-trainer certificates of its cohort's
    // instructors, valid on every day of the cohort
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates c WHERE c.tier = 'propagandist' \
             AND NOT EXISTS (SELECT 1 FROM certificate_lineage l WHERE l.certificate_id = c.id)"
        ),
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificate_lineage l \
             JOIN certificates c ON c.id = l.certificate_id \
             JOIN cohorts h ON h.id = c.cohort_id \
             JOIN certificates m ON m.id = l.master_certificate_id \
             WHERE m.tier <> 'master_trainer' \
             OR NOT EXISTS (SELECT 1 FROM cohort_instructors i \
                            WHERE i.cohort_id = h.id AND i.user_id = m.holder_id) \
             OR m.issued_on > h.starts_on OR m.valid_until < h.ends_on \
             OR (m.ended_on IS NOT NULL AND m.ended_on <= h.ends_on)"
        ),
        0
    );
    // every tier-2 cohort is taught by someone
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM cohorts h JOIN courses k ON k.id = h.course_id \
             WHERE k.tier = 'propagandist' \
             AND NOT EXISTS (SELECT 1 FROM cohort_instructors i WHERE i.cohort_id = h.id)"
        ),
        0
    );
    // ended_on: the day of revocation (Vietnam), or the day the reissue was issued
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates WHERE status = 'revoked' AND (ended_on IS NULL \
             OR ended_on <> (revoked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date \
             OR revocation_reason IS NULL OR ended_on <= issued_on)"
        ),
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates old JOIN certificates new \
             ON new.supersedes_id = old.id \
             WHERE old.status <> 'superseded' OR old.ended_on <> new.issued_on \
             OR new.holder_id <> old.holder_id OR new.valid_until <> old.valid_until"
        ),
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM certificates WHERE (status = 'valid') <> (ended_on IS NULL)"
        ),
        0
    );
    // outreach only by people holding a certificate in force on the day
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM outreach_entries e WHERE NOT EXISTS ( \
             SELECT 1 FROM certificates c WHERE c.holder_id = e.author_id \
             AND c.issued_on <= e.held_on AND c.valid_until >= e.held_on \
             AND (c.ended_on IS NULL OR c.ended_on > e.held_on))"
        ),
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM outreach_entries e JOIN users u ON u.id = e.author_id \
             WHERE u.organization_id <> e.organization_id OR e.held_on > DATE '2027-06-01'"
        ),
        0
    );
}

#[actix_web::test]
async fn a_seeded_branch_coordinator_signs_in_and_sees_coverage_of_their_branch() {
    let (app, report) = seeded(PEOPLE, 3).await;
    let (username, code) = report
        .coordinators
        .iter()
        .find(|(_, code)| code == "BHXH-HN")
        .cloned()
        .expect("the coordinator of BHXH-HN");
    assert_eq!(code, "BHXH-HN");
    let login = app.login_answer(&username, PASSWORD).await;
    assert_status(&login, 200);
    let token = login.json["access_token"]
        .as_str()
        .expect("token")
        .to_string();

    let coverage = app.get("/api/v1/reports/coverage", Some(&token)).await;
    assert_status(&coverage, 200);
    let items = coverage.json["items"].as_array().expect("items");
    // the branch and its ten units, nothing of another province
    assert_eq!(items.len(), 11, "{}", coverage.json);
    let branch = items
        .iter()
        .find(|i| i["organization"]["code"] == "BHXH-HN")
        .expect("the branch itself");
    let counted = |item: &Value, field: &str| item[field].as_i64().unwrap_or(0);
    assert!(counted(branch, "propagandists_valid") > 0, "{branch}");
    assert!(counted(branch, "master_trainers_valid") > 0, "{branch}");
    // the same figure as the rows say: distinct holders of a valid propagandist certificate
    let expected = app.count(
        "SELECT count(DISTINCT c.holder_id) AS n FROM certificates c \
         JOIN users u ON u.id = c.holder_id JOIN organizations o ON o.id = u.organization_id \
         WHERE c.tier = 'propagandist' AND c.status = 'valid' \
         AND c.issued_on <= DATE '2027-06-01' AND c.valid_until >= DATE '2027-06-01' \
         AND (o.code = 'BHXH-HN' OR o.parent_id = (SELECT id FROM organizations WHERE code = 'BHXH-HN'))",
    );
    assert_eq!(counted(branch, "propagandists_valid"), expected);

    let admin = app.login_answer(&report.administrator, PASSWORD).await;
    assert_status(&admin, 200);
}

#[actix_web::test]
async fn seeded_certificates_verify_with_their_real_status() {
    let (app, _) = seeded(500, 5).await;
    for status in ["valid", "revoked", "superseded"] {
        let code: String = {
            use cascade::db::schema::certificates;
            use diesel::prelude::*;
            certificates::table
                .filter(certificates::status.eq(status))
                .filter(certificates::valid_until.ge(date(2027, 6, 1)))
                .order(certificates::serial.asc())
                .select(certificates::verification_code)
                .first(&mut app.db())
                .unwrap_or_else(|_| panic!("a {status} certificate"))
        };
        let answer = app.get(&format!("/api/v1/verify/{code}"), None).await;
        assert_status(&answer, 200);
        assert_eq!(answer.json["status"], status, "{}", answer.json);
    }

    // the PDF of a seeded certificate carries claims that its signature holds
    let admin = app.login_answer(seed_scale::ADMINISTRATOR, PASSWORD).await;
    let token = admin.json["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let id: uuid::Uuid = {
        use cascade::db::schema::certificates;
        use diesel::prelude::*;
        certificates::table
            .filter(certificates::tier.eq("propagandist"))
            .order(certificates::serial.asc())
            .select(certificates::id)
            .first(&mut app.db())
            .expect("a certificate")
    };
    let pdf = app
        .get(&format!("/api/v1/certificates/{id}/pdf"), Some(&token))
        .await;
    assert_status(&pdf, 200);
    let envelope =
        cascade::certificates::pdf::extract_embedded_claims(&pdf.body).expect("embedded claims");
    let key = app.issuer.signing_key().verifying_key();
    let claims = cascade::domain::certificates::verify_envelope(
        &envelope,
        &[(cascade::domain::certificates::key_id(&key), key)],
    )
    .expect("a genuine signature");
    assert_eq!(claims.certificate_id, id);
    assert!(!claims.lineage.is_empty());
}

/// Counts and checksums that two seedings with one seed must share.
fn fingerprint(app_url: &str) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut conn = diesel::PgConnection::establish(app_url).expect("connect");
    let queries = [
        "SELECT count(*)::text || ' ' || md5(string_agg(username || full_name || \
         date_of_birth::text || category, ',' ORDER BY username)) AS line FROM users \
         WHERE password_hash IS NULL",
        "SELECT count(*)::text || ' ' || md5(string_agg(code || name, ',' ORDER BY code)) AS line \
         FROM organizations",
        "SELECT count(*)::text || ' ' || md5(string_agg(title || starts_on::text || status \
         || capacity::text, ',' ORDER BY id)) AS line FROM cohorts",
        "SELECT count(*)::text || ' ' || md5(string_agg(id::text || status || \
         coalesce(score::text, '-'), ',' ORDER BY id)) AS line FROM enrollments",
        "SELECT count(*)::text || ' ' || md5(string_agg(serial || status || verification_code \
         || issued_on::text || encode(claims, 'hex'), ',' ORDER BY serial)) AS line \
         FROM certificates",
        "SELECT count(*)::text || ' ' || md5(string_agg(id::text || held_on::text || form || \
         audience::text || status, ',' ORDER BY id)) AS line FROM outreach_entries",
        "SELECT count(*)::text AS line FROM certificate_lineage",
    ];
    queries
        .iter()
        .map(|q| {
            diesel::sql_query(*q)
                .get_result::<Line>(&mut conn)
                .expect("fingerprint")
                .line
        })
        .collect()
}

#[actix_web::test]
async fn seeding_twice_with_one_seed_gives_the_same_data_set() {
    let app = spawn_app().await;
    let (_, second) = fresh_database();
    let (_, other) = fresh_database();
    for url in [&app.database_url, &second] {
        seed_into(url, &app.issuer, options(600, 42))
            .await
            .expect("seed-scale");
    }
    seed_into(&other, &app.issuer, options(600, 43))
        .await
        .expect("seed-scale");
    let first = fingerprint(&app.database_url);
    assert_eq!(first, fingerprint(&second));
    let different = fingerprint(&other);
    assert_eq!(first[0].split(' ').next(), different[0].split(' ').next());
    assert_ne!(first, different, "another seed draws another data set");
}

#[actix_web::test]
async fn seed_scale_refuses_a_database_that_holds_people_unless_forced() {
    let app = spawn_app().await;
    app.person("nguoi.co.san", "BHXH-HN", &["trainee"], "official");

    let refused = seed_into(&app.database_url, &app.issuer, options(300, 1)).await;
    let message = refused.expect_err("a database with people is refused");
    assert!(message.contains("--force"), "{message}");
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM certificates"), 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM organizations"), 36);

    let forced = Options {
        force: true,
        ..options(300, 1)
    };
    let report = seed_into(&app.database_url, &app.issuer, forced)
        .await
        .expect("forced");
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), 1 + 300 + 35);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates"),
        report.certificates as i64
    );

    // the same seed again is refused by name; another seed adds its people beside
    let again = seed_into(
        &app.database_url,
        &app.issuer,
        Options {
            force: true,
            ..options(300, 1)
        },
    )
    .await;
    assert!(again.expect_err("same seed").contains("--seed 1"));
    let more = seed_into(
        &app.database_url,
        &app.issuer,
        Options {
            force: true,
            ..options(300, 2)
        },
    )
    .await
    .expect("another seed");
    assert_eq!(more.organizations, 0, "the units are there already");
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), 1 + 600 + 35);
    assert_eq!(app.count("SELECT count(*) AS n FROM organizations"), 375);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM (SELECT issuer_id, serial_year FROM certificates \
             GROUP BY 1, 2 HAVING max(serial_number) <> count(*)) g"
        ),
        0,
        "serial numbers go on from the counters without gaps"
    );
}

/// Every index and constraint of the schema, by name, with its definition and whether it has
/// been validated.
fn structures(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    diesel::sql_query(
        "SELECT tablename || ' ' || indexname || ' ' || indexdef AS line
         FROM pg_indexes WHERE schemaname = 'public'
         UNION ALL
         SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         ORDER BY 1",
    )
    .load::<Line>(&mut app.db())
    .expect("the schema's structures")
    .into_iter()
    .map(|l| l.line)
    .collect()
}

#[actix_web::test]
async fn seeding_and_rebuilding_leave_every_index_and_constraint_as_the_migrations_made_them() {
    let app = spawn_app().await;
    let before = structures(&app);
    assert!(
        before
            .iter()
            .any(|l| l.contains("users_name_search_trgm_idx")),
        "the trigram index on names is part of the schema"
    );
    assert!(before
        .iter()
        .any(|l| l.contains("certificates_holder_id_fkey")));
    let report = seed_into(&app.database_url, &app.issuer, options(400, 5))
        .await
        .expect("seed-scale");
    assert!(report.stages.iter().any(|(stage, _)| *stage == "indexes"));
    assert_eq!(structures(&app), before, "after seeding");
    cascade::reports::summaries::rebuild(&mut app.db()).expect("rebuild");
    assert_eq!(structures(&app), before, "after rebuilding the summaries");
}

#[actix_web::test]
async fn a_foreign_key_set_aside_for_a_bulk_write_still_refuses_a_dangling_row() {
    use cascade::db::bulk;
    use diesel::prelude::*;
    let app = spawn_app().await;
    let before = structures(&app);
    let mut conn = app.db();
    let written = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let set_aside = bulk::set_aside(conn, &["user_roles"])?;
        assert!(
            diesel::sql_query(
                "SELECT 1 FROM pg_constraint WHERE conname = 'user_roles_user_id_fkey'"
            )
            .execute(conn)?
                == 0,
            "set aside while the rows are written"
        );
        // nobody has this id: the row is accepted now, and refused when the key comes back
        diesel::sql_query(
            "INSERT INTO user_roles (user_id, role)
             VALUES ('00000000-0000-4000-8000-000000000001', 'trainee')",
        )
        .execute(conn)?;
        bulk::put_back(conn, set_aside)
    });
    let error = written.expect_err("the dangling row fails the transaction");
    assert!(
        error.to_string().contains("user_roles_user_id_fkey"),
        "{error}"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM user_roles
             WHERE user_id = '00000000-0000-4000-8000-000000000001'"
        ),
        0
    );
    assert_eq!(structures(&app), before, "everything rolled back with it");
}
