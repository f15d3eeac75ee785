//! `cascade backup` / `cascade restore` (the library functions behind them): a backup restored
//! into an empty, freshly started PostgreSQL cluster with fresh configuration folders serves
//! the same certificates, byte for byte, and still opens the sealed CCCDs.

use std::path::{Path, PathBuf};

use cascade::backup::{self, BackupError, KeysPlacement, RestoreOptions};
use cascade::db::cluster::PostgresCluster;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, fresh_database, spawn_app_with, TestApp};
use crate::training::{assign, chain, cohort, enrolled, mark, score, session, set_status, Chain};

const CCCD: &str = "001085000123";

/// Key files made the way Cascade makes them, in a folder of their own.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("key dir");
        cascade::secrets::load_or_create(&dir.path().join("signing-key"), 32).expect("signing key");
        cascade::privacy::load_data_key(&dir.path().join("data-key")).expect("data key");
        Keys { dir }
    }

    fn signing(&self) -> PathBuf {
        self.dir.path().join("signing-key")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data-key")
    }

    fn settings(&self) -> [(String, String); 2] {
        [
            (
                "CASCADE_SIGNING_KEY_FILE".into(),
                self.signing().to_string_lossy().into(),
            ),
            (
                "CASCADE_DATA_KEY_FILE".into(),
                self.data().to_string_lossy().into(),
            ),
        ]
    }
}

/// The configuration `cascade backup` / `restore` would read: this database, this data folder,
/// and these key files (or the data folder's own when `keys` is `None`).
fn config(url: &str, data_dir: &Path, keys: Option<&Keys>) -> cascade::Config {
    let settings = keys.map(Keys::settings);
    cascade::Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.to_string()),
        "CASCADE_DATA_DIR" => Some(data_dir.to_string_lossy().into()),
        other => settings
            .as_ref()
            .and_then(|s| s.iter().find(|(k, _)| k == other).map(|(_, v)| v.clone())),
    })
    .expect("config")
}

async fn app_with_keys(name: String, url: String, signing: &Path, data: &Path) -> TestApp {
    let signing = signing.to_string_lossy().to_string();
    let data = data.to_string_lossy().to_string();
    spawn_app_with(
        name,
        url,
        &[
            ("CASCADE_SIGNING_KEY_FILE", &signing),
            ("CASCADE_DATA_KEY_FILE", &data),
        ],
    )
    .await
}

/// An empty database in a PostgreSQL cluster of its own, started for this test; (cluster, name,
/// URL). The cluster's folder goes when the test process ends.
fn empty_cluster() -> (PostgresCluster, String, String) {
    let cluster = PostgresCluster::start_throwaway().expect("start a second PostgreSQL");
    let name = format!("cascade_restored_{}", Uuid::new_v4().simple());
    cascade::db::create_database_if_missing(&cluster.database_url("postgres"), &name)
        .expect("create the empty database");
    let url = cluster.database_url(&name);
    (cluster, name, url)
}

/// A finished tier-1 cohort of Bộ Nội vụ (Tuấn and Khoa complete), finalised: the answer.
async fn finished_tier1_cohort(app: &TestApp, c: &Chain) -> Value {
    let id = cohort(app, &c.bnv, c.tier1, "BNV", 20).await;
    assert_status(&assign(app, &c.bnv, id, c.master).await, 201);
    let sessions = [
        session(app, &c.bnv, id, 10, 8, 14).await,
        session(app, &c.bnv, id, 11, 8, 10).await,
    ];
    assert_status(&set_status(app, &c.bnv, id, "open").await, 200);
    assert_status(&set_status(app, &c.bnv, id, "in_progress").await, 200);
    let enrollments = [
        enrolled(app, &c.bnv, id, c.tuan).await,
        enrolled(app, &c.bnv, id, c.khoa).await,
    ];
    for s in sessions {
        let lines: Vec<Value> = enrollments
            .iter()
            .map(|e| json!({"enrollment_id": e, "present": true}))
            .collect();
        mark(app, &c.bnv, s, Value::Array(lines)).await;
    }
    for e in enrollments {
        assert_status(&score(app, &c.bnv, e, 80.0).await, 200);
    }
    let done = app
        .post(
            &format!("/api/v1/cohorts/{id}/finalize"),
            Some(&c.bnv),
            &json!({}),
        )
        .await;
    assert_status(&done, 200);
    done.json
}

/// What a verifier and a holder see of every issued certificate: id → (verification answer,
/// PDF bytes), and the recorded SHA-256 of each PDF.
struct Seen {
    verified: Vec<(Uuid, u16, Value)>,
    pdfs: Vec<(Uuid, Vec<u8>)>,
}

async fn everything_seen(app: &TestApp, token: &str) -> Seen {
    use diesel::prelude::*;
    let issued: Vec<(Uuid, String)> = {
        use cascade::db::schema::certificates;
        certificates::table
            .filter(certificates::cohort_id.is_not_null())
            .order(certificates::serial.asc())
            .select((certificates::id, certificates::verification_code))
            .load(&mut app.db())
            .expect("certificates")
    };
    assert!(issued.len() >= 5, "the chain issued {}", issued.len());
    let mut seen = Seen {
        verified: Vec::new(),
        pdfs: Vec::new(),
    };
    for (id, code) in issued {
        let v = app.get(&format!("/api/v1/verify/{code}"), None).await;
        seen.verified.push((id, v.status.as_u16(), v.json));
        let pdf = app
            .get(&format!("/api/v1/certificates/{id}/pdf"), Some(token))
            .await;
        assert_status(&pdf, 200);
        seen.pdfs.push((id, pdf.body));
    }
    seen
}

fn recorded_digests(app: &TestApp) -> Vec<(Uuid, Option<Vec<u8>>)> {
    use cascade::db::schema::certificates;
    use diesel::prelude::*;
    certificates::table
        .filter(certificates::cohort_id.is_not_null())
        .order(certificates::serial.asc())
        .select((certificates::id, certificates::pdf_sha256))
        .load(&mut app.db())
        .expect("digests")
}

async fn revealed_cccd(app: &TestApp, person: Uuid) -> Value {
    let hr = app.login("nhansu.hn").await;
    let shown = app
        .post(
            &format!("/api/v1/users/{person}/national-id"),
            Some(&hr),
            &json!({}),
        )
        .await;
    assert_status(&shown, 200);
    shown.json["national_id"].clone()
}

#[actix_web::test]
async fn a_backup_restored_into_an_empty_cluster_verifies_every_certificate_and_serves_identical_pdfs(
) {
    let keys = Keys::new();
    let (name, url) = fresh_database();
    let app = app_with_keys(name, url.clone(), &keys.signing(), &keys.data()).await;
    let c = chain(&app).await;
    let tier1 = finished_tier1_cohort(&app, &c).await;
    assert_eq!(tier1["issued"][0]["tier"], "master_trainer");
    let (_, tier2) = finished_cohort(&app, &c).await;
    assert_eq!(tier2.json["issued"][0]["tier"], "propagandist");
    let revoked = tier2.json["issued"][1]["id"].as_str().unwrap().to_string();
    assert_status(
        &app.post(
            &format!("/api/v1/certificates/{revoked}/revoke"),
            Some(&c.hn),
            &json!({"reason": "Hồ sơ khai man"}),
        )
        .await,
        200,
    );
    app.give_national_id_with(&keys.data(), c.hang, CCCD);
    let before = everything_seen(&app, &c.admin).await;
    let digests_before = recorded_digests(&app);
    assert!(digests_before.iter().all(|(_, d)| d.is_some()));
    assert!(before
        .verified
        .iter()
        .any(|(_, _, v)| v["status"] == "revoked"));

    // backed up as `cascade backup` does, keys included
    let out = tempfile::tempdir().expect("backup dir");
    let file = out.path().join("cascade-2027-06-01.backup");
    let data_dir = tempfile::tempdir().expect("data dir");
    let report = backup::backup(
        &config(&url, data_dir.path(), Some(&keys)),
        &url,
        &file,
        &KeysPlacement::Included,
    )
    .expect("backup");
    assert_eq!(report.manifest.keys, "included");
    assert_eq!(report.manifest.cascade_version, env!("CARGO_PKG_VERSION"));
    assert!(!report.manifest.schema_version.is_empty());
    let names: Vec<&str> = report
        .manifest
        .parts
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["database.pgdump", "keys/signing-key", "keys/data-key"]
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // nothing of the dump's work folder stays beside the file
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);

    // restored into a cluster started just now, with a data folder that holds nothing yet
    let (_cluster, restored_name, restored_url) = empty_cluster();
    let fresh_dir = tempfile::tempdir().expect("fresh data dir");
    let restored = backup::restore(
        &config(&restored_url, fresh_dir.path(), None),
        &restored_url,
        &file,
        &RestoreOptions::default(),
    )
    .expect("restore");
    assert_eq!(restored.migrations_applied, 0);
    let (signing, data) = (
        fresh_dir.path().join("signing-key"),
        fresh_dir.path().join("data-key"),
    );
    assert_eq!(restored.keys_written, vec![signing.clone(), data.clone()]);
    assert_eq!(
        std::fs::read(&signing).unwrap(),
        std::fs::read(keys.signing()).unwrap()
    );
    assert_eq!(
        std::fs::read(&data).unwrap(),
        std::fs::read(keys.data()).unwrap()
    );

    let again = app_with_keys(restored_name, restored_url, &signing, &data).await;
    let admin = again.login("quantri").await;
    let after = everything_seen(&again, &admin).await;
    assert_eq!(after.verified.len(), before.verified.len());
    for (b, a) in before.verified.iter().zip(&after.verified) {
        assert_eq!(b, a, "the verification of {} changed", b.0);
    }
    for (b, a) in before.pdfs.iter().zip(&after.pdfs) {
        assert_eq!(b.0, a.0);
        assert!(b.1 == a.1, "the PDF of {} changed", b.0);
    }
    let digests_after = recorded_digests(&again);
    assert_eq!(digests_after, digests_before);
    for ((id, pdf), (_, recorded)) in after.pdfs.iter().zip(&digests_after) {
        assert_eq!(
            Some(Sha256::digest(pdf).to_vec()),
            *recorded,
            "the PDF of {id} no longer matches its recorded SHA-256"
        );
    }
    // the data key came along: the sealed CCCD opens
    assert_eq!(revealed_cccd(&again, c.hang).await, CCCD);
}

#[actix_web::test]
async fn restore_refuses_a_database_with_data_a_changed_file_and_keys_that_are_not_its_own() {
    let keys = Keys::new();
    let (name, url) = fresh_database();
    let app = app_with_keys(name, url.clone(), &keys.signing(), &keys.data()).await;
    let person = app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    app.give_national_id_with(&keys.data(), person, CCCD);

    // the keys apart, in a file of their own
    let out = tempfile::tempdir().expect("backup dir");
    let file = out.path().join("cascade.backup");
    let keys_file = out.path().join("cascade-keys.zip");
    let data_dir = tempfile::tempdir().expect("data dir");
    let report = backup::backup(
        &config(&url, data_dir.path(), Some(&keys)),
        &url,
        &file,
        &KeysPlacement::Apart(keys_file.clone()),
    )
    .expect("backup");
    assert_eq!(report.manifest.keys, "apart");
    assert_eq!(report.keys_file.as_deref(), Some(keys_file.as_path()));
    assert!(report
        .manifest
        .parts
        .iter()
        .all(|p| !p.name.starts_with("keys/")));
    // a second backup never overwrites the first
    assert!(matches!(
        backup::backup(
            &config(&url, data_dir.path(), Some(&keys)),
            &url,
            &file,
            &KeysPlacement::Included
        ),
        Err(BackupError::Io(_))
    ));

    let fresh_dir = tempfile::tempdir().expect("fresh data dir");
    let fresh = config(&url, fresh_dir.path(), None);
    let nothing_written = |dir: &Path| std::fs::read_dir(dir).unwrap().count() == 0;

    // a database with data: refused, nothing written
    let refused = backup::restore(
        &fresh,
        &url,
        &file,
        &RestoreOptions {
            force: false,
            keys_from: Some(keys_file.clone()),
        },
    );
    match refused {
        Err(e @ BackupError::NotEmpty { .. }) => {
            assert!(e.to_string().contains("--force"), "{e}")
        }
        other => panic!("expected a refusal of a database with data, got {other:?}"),
    }
    assert!(nothing_written(fresh_dir.path()));
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), 2);

    let (_cluster, restored_name, restored_url) = empty_cluster();
    let into_empty = config(&restored_url, fresh_dir.path(), None);
    // without its keys file, on a machine without the keys: refused, nothing written
    match backup::restore(
        &into_empty,
        &restored_url,
        &file,
        &RestoreOptions::default(),
    ) {
        Err(e @ BackupError::Keys(_)) => assert!(e.to_string().contains("--keys-from"), "{e}"),
        other => panic!("expected a refusal for want of keys, got {other:?}"),
    }
    // with the keys file of another backup: refused
    let other_keys = Keys::new();
    let other_file = out.path().join("other.backup");
    let other_keys_file = out.path().join("other-keys.zip");
    backup::backup(
        &config(&url, data_dir.path(), Some(&other_keys)),
        &url,
        &other_file,
        &KeysPlacement::Apart(other_keys_file.clone()),
    )
    .expect("another backup");
    assert!(matches!(
        backup::restore(
            &into_empty,
            &restored_url,
            &file,
            &RestoreOptions {
                force: false,
                keys_from: Some(other_keys_file),
            },
        ),
        Err(BackupError::Keys(_))
    ));
    // a backup with one byte changed in its dump: refused
    let tampered = out.path().join("tampered.backup");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&tampered, &bytes).unwrap();
    assert!(matches!(
        backup::restore(
            &into_empty,
            &restored_url,
            &tampered,
            &RestoreOptions {
                force: false,
                keys_from: Some(keys_file.clone()),
            },
        ),
        Err(BackupError::Corrupt(_))
    ));
    assert!(nothing_written(fresh_dir.path()));

    // with its keys file it restores, keys and all
    backup::restore(
        &into_empty,
        &restored_url,
        &file,
        &RestoreOptions {
            force: false,
            keys_from: Some(keys_file.clone()),
        },
    )
    .expect("restore with the keys file");
    // a key in place that differs from the backup's is not overwritten without --force
    std::fs::write(fresh_dir.path().join("data-key"), [9u8; 32]).unwrap();
    let over = RestoreOptions {
        force: true,
        keys_from: Some(keys_file.clone()),
    };
    match backup::restore(
        &into_empty,
        &restored_url,
        &file,
        &RestoreOptions {
            force: false,
            keys_from: Some(keys_file.clone()),
        },
    ) {
        Err(BackupError::Keys(_)) => {}
        other => panic!("expected a refusal to overwrite a key, got {other:?}"),
    }
    // --force restores over the data and puts the backup's key back
    let forced = backup::restore(&into_empty, &restored_url, &file, &over).expect("forced");
    assert_eq!(forced.keys_written, vec![fresh_dir.path().join("data-key")]);
    let again = app_with_keys(
        restored_name,
        restored_url,
        &fresh_dir.path().join("signing-key"),
        &fresh_dir.path().join("data-key"),
    )
    .await;
    assert_eq!(again.count("SELECT count(*) AS n FROM users"), 2);
    assert_eq!(revealed_cccd(&again, person).await, CCCD);
}
