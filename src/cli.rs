//! The commands of `cascade --help`: serve, migrate, create-admin, seed-demo, verify,
//! import-users, purge, rotate-data-key, backup, restore, seed-scale.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{self, Database, Db};
use crate::startup::{AppState, Application};

#[derive(Parser, Debug)]
#[command(
    name = "cascade",
    version,
    about = "Cascade: master trainers, propagandists and verifiable certificates for the BHXH outreach programme"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web service (applies migrations first).
    Serve {
        /// Load the demo data (as `seed-demo` does) before serving.
        #[arg(long)]
        demo: bool,
        /// Do not render the PDFs of certificates without a recorded digest at start (a data
        /// set from `seed-scale` has a million; their digests are recorded at first download).
        #[arg(long)]
        skip_digest_backfill: bool,
    },
    /// Apply migrations and the reference data, then exit.
    Migrate,
    /// Create an administrator; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// Organisation code (default: the state agency BNV).
        #[arg(long, default_value = "BNV")]
        organization: String,
    },
    /// Load demo people, courses and cohorts for a newcomer to click through; prints the logins.
    SeedDemo,
    /// Load a believable national data set of N people (units, master trainers, cohorts over
    /// three years, enrolments, certificates, outreach, targets) fast, for reports and load
    /// tests; refuses a database that already holds people unless --force.
    SeedScale {
        /// How many people.
        #[arg(long)]
        people: u64,
        /// The same seed gives the same data set.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The database to fill (default: DATABASE_URL, or the private cluster).
        #[arg(long)]
        database_url: Option<String>,
        /// Password of the administrator `quantri.quymo` and the branch coordinators
        /// `dieuphoi.quymo.<province>` (default: a random one, printed once).
        #[arg(long)]
        password: Option<String>,
        /// The day the data set is seeded as of, YYYY-MM-DD (default: today in Vietnam).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Seed even though the database already holds people.
        #[arg(long)]
        force: bool,
    },
    /// Check a certificate PDF offline: its embedded claims and their Ed25519 signature.
    /// Exit status 0 only when the certificate is genuine and not expired.
    Verify {
        file: std::path::PathBuf,
        /// The public keys as served by GET /api/v1/keys (a JSON file); by default the key of the
        /// local signing key file.
        #[arg(long)]
        keys: Option<std::path::PathBuf>,
    },
    /// Re-seal every CCCD under a new data key (CASCADE_DATA_KEY_FILE), in one transaction; the
    /// old key stays as <file>.old until that committed. Stop the service first.
    RotateDataKey,
    /// Import people from a CSV file, with the same rules as `POST /api/v1/users/import`.
    ImportUsers {
        /// CSV with the header username,full_name,date_of_birth,national_id,email,organization_code,category,roles
        file: std::path::PathBuf,
    },
    /// Delete the login attempts, read-audit events and ended login sessions past their retention
    /// periods (CASCADE_RETAIN_*_DAYS); `serve` does this once a day by itself.
    Purge,
    /// Recompute the reports' summaries (coverage and outreach) from the base tables, in one
    /// transaction: after loading data around the service, or to check them.
    RebuildSummaries,
    /// Write one backup file (mode 0600): a pg_dump of the database, the certificate signing key
    /// and the data key, and a manifest with the SHA-256 of each part.
    Backup {
        /// The file to write; it must not exist yet.
        file: std::path::PathBuf,
        /// Leave the keys out (keep CASCADE_SIGNING_KEY_FILE and CASCADE_DATA_KEY_FILE by other means).
        #[arg(long, conflicts_with = "keys_to")]
        without_keys: bool,
        /// Write the keys to this file instead, to be stored apart from the database backups.
        #[arg(long)]
        keys_to: Option<std::path::PathBuf>,
    },
    /// Restore a backup file into an empty database, put its keys where the configuration says,
    /// and apply newer migrations. Stop the service first.
    Restore {
        file: std::path::PathBuf,
        /// Restore over a database that holds data (it is dropped first) and replace key files
        /// that differ from the backup's.
        #[arg(long)]
        force: bool,
        /// The keys file written by `backup --keys-to`, for a backup made without its keys.
        #[arg(long)]
        keys_from: Option<std::path::PathBuf>,
    },
}

pub fn run(cli: Cli) -> Result<ExitCode, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    match cli.command {
        Command::Verify { file, keys } => verify_file(&config, &file, keys.as_deref()),
        Command::Serve {
            demo,
            skip_digest_backfill,
        } => serve(config, demo, !skip_digest_backfill),
        Command::Migrate => with_database(&config, |url| {
            let n = db::migrate(url)?;
            open_data_key(&config, url)?;
            println!("migrations applied: {n}");
            Ok(())
        }),
        Command::RotateDataKey => with_database(&config, |url| {
            use diesel::Connection;
            db::migrate(url)?;
            let mut conn = diesel::PgConnection::establish(url)
                .map_err(|e| format!("cannot connect to the database: {e}"))?;
            let n = crate::service::people::rotate_data_key(&mut conn, &config.data_key_path())?;
            println!("Đã mã hóa lại {n} số CCCD bằng khóa dữ liệu mới.");
            Ok(())
        }),
        Command::CreateAdmin {
            username,
            full_name,
            organization,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            with_database(&config, |url| {
                db::migrate(url)?;
                crate::demo::create_admin(url, &username, &full_name, &organization, &password)?;
                println!("administrator `{username}` is ready");
                Ok(())
            })
        }
        Command::ImportUsers { file } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let mut failed = false;
            let code = with_database(&config, |url| {
                db::migrate(url)?;
                let key = open_data_key(&config, url)?;
                let report = crate::demo::import_users(url, &key, &bytes)?;
                for e in &report.errors {
                    // the line's sentence is the one the pages show after "Dòng 3:"
                    eprintln!("Dòng {}: {}", e.line, e.message);
                }
                failed = !report.errors.is_empty();
                println!(
                    "created: {}, updated: {}, errors: {}",
                    report.created,
                    report.updated,
                    report.errors.len()
                );
                Ok(())
            })?;
            Ok(if failed { ExitCode::from(1) } else { code })
        }
        Command::RebuildSummaries => with_database(&config, |url| {
            use diesel::Connection;
            db::migrate(url)?;
            let mut conn = diesel::PgConnection::establish(url)
                .map_err(|e| format!("cannot connect to the database: {e}"))?;
            let started = std::time::Instant::now();
            let done = crate::service::reports::rebuild_summaries(&mut conn)
                .map_err(|e| format!("rebuilding the report summaries failed: {e}"))?;
            println!(
                "Đã tính lại số liệu tổng hợp của báo cáo: {} khoảng hiệu lực, hết hạn và hoàn thành; \
                 {} dòng tuyên truyền theo người và tháng ({:.1} giây).",
                done.coverage_contributions,
                done.outreach_authors,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }),
        Command::Purge => with_database(&config, |url| {
            db::migrate(url)?;
            let report = purge(url, &config)?;
            println!(
                "Đã xóa {} lượt thử đăng nhập, {} lần xem dữ liệu cá nhân và {} phiên đăng nhập \
                 đã quá thời hạn lưu trữ.",
                report.login_attempts, report.read_events, report.sessions
            );
            Ok(())
        }),
        Command::Backup {
            file,
            without_keys,
            keys_to,
        } => with_database(&config, |url| {
            let keys = match (without_keys, keys_to) {
                (true, _) => crate::backup::KeysPlacement::Left,
                (false, Some(path)) => crate::backup::KeysPlacement::Apart(path),
                (false, None) => crate::backup::KeysPlacement::Included,
            };
            let report = crate::backup::backup(&config, url, &file, &keys)?;
            println!(
                "Đã sao lưu vào {} (lược đồ {}).",
                file.display(),
                report.manifest.schema_version
            );
            match (&report.keys_file, report.manifest.keys.as_str()) {
                (Some(keys_file), _) => println!(
                    "Các khóa nằm trong {}: hãy cất tệp này tách khỏi các bản sao lưu dữ liệu.",
                    keys_file.display()
                ),
                (None, "left") => println!(
                    "Bản sao lưu không chứa khóa: khôi phục sẽ cần đúng các tệp khóa hiện tại."
                ),
                _ => println!(
                    "Bản sao lưu chứa cả khóa dữ liệu: hãy cất nó ở nơi an toàn như chính các khóa."
                ),
            }
            Ok(())
        }),
        Command::Restore {
            file,
            force,
            keys_from,
        } => with_database(&config, |url| {
            let options = crate::backup::RestoreOptions { force, keys_from };
            let report = crate::backup::restore(&config, url, &file, &options)?;
            println!(
                "Đã khôi phục bản sao lưu ngày {} (lược đồ {}); {} bước chuyển đổi mới hơn đã chạy.",
                report.manifest.created_at.format("%Y-%m-%d %H:%M UTC"),
                report.manifest.schema_version,
                report.migrations_applied
            );
            for key in &report.keys_written {
                println!("Đã ghi khóa {}.", key.display());
            }
            Ok(())
        }),
        Command::SeedScale {
            people,
            seed,
            database_url,
            password,
            today,
            force,
        } => {
            let mut config = config;
            if database_url.is_some() {
                config.database_url = database_url;
            }
            with_database(&config, |url| {
                db::migrate(url)?;
                open_data_key(&config, url)?;
                let issuer = crate::certificates::Issuer::from_config(&config)?;
                let options = crate::seed_scale::Options {
                    people,
                    seed,
                    today: today.unwrap_or_else(crate::certificates::issuance::today),
                    password,
                    force,
                    progress: true,
                };
                let report = crate::seed_scale::run(url, &issuer, &options)?;
                crate::seed_scale::print_report(&report);
                Ok(())
            })
        }
        Command::SeedDemo => with_database(&config, |url| {
            db::migrate(url)?;
            let key = open_data_key(&config, url)?;
            let issuer = crate::certificates::Issuer::from_config(&config)?;
            let logins = crate::demo::seed(url, &key, &issuer)?;
            crate::demo::print_logins(&logins);
            Ok(())
        }),
    }
}

/// `cascade purge`: one purge as of now, on a connection of its own.
fn purge(url: &str, config: &Config) -> Result<crate::service::retention::PurgeReport, String> {
    use diesel::Connection;
    let mut conn = diesel::PgConnection::establish(url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    crate::service::retention::purge_on(&mut conn, chrono::Utc::now(), &config.retention)
        .map_err(|e| format!("the purge failed: {e}"))
}

/// The data key, after sealing any CCCD still stored in clear (the start-up step that follows
/// the migrations; `serve` takes it in `AppState::new`).
fn open_data_key(config: &Config, url: &str) -> Result<crate::privacy::DataKey, String> {
    use diesel::Connection;
    let key = crate::privacy::load_data_key(&config.data_key_path())?;
    let mut conn = diesel::PgConnection::establish(url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let sealed = crate::service::people::seal_plain_national_ids(&mut conn, &key)
        .map_err(|e| format!("cannot seal the stored CCCDs: {e}"))?;
    if sealed > 0 {
        tracing::info!(sealed, "CCCDs stored in clear are now sealed");
    }
    Ok(key)
}

/// Opens the database (starting the private cluster if needed), runs `f`, and closes it again.
fn with_database(
    config: &Config,
    f: impl FnOnce(&str) -> Result<(), String>,
) -> Result<ExitCode, String> {
    let database = Database::open(config)?;
    let result = f(&database.url);
    database.close();
    result.map(|_| ExitCode::SUCCESS)
}

fn serve(config: Config, demo: bool, digest_backfill: bool) -> Result<ExitCode, String> {
    let database = Database::open(&config)?;
    let result = serve_on(config, &database.url, demo, digest_backfill);
    // the private cluster stops after the server has drained its requests
    database.close();
    result.map(|_| ExitCode::SUCCESS)
}

fn serve_on(config: Config, url: &str, demo: bool, digest_backfill: bool) -> Result<(), String> {
    let applied = db::migrate(url)?;
    tracing::info!(applied, "database migrated");
    if demo {
        let key = open_data_key(&config, url)?;
        let issuer = crate::certificates::Issuer::from_config(&config)?;
        let logins = crate::demo::seed(url, &key, &issuer)?;
        crate::demo::print_logins(&logins);
    }
    let db = Db::connect(url, config.db_pool_size)?;
    let state = AppState::new(config, db)?;
    let bind = state.config.bind;
    let public_url = state.config.public_url.clone();
    let (purge_db, retention) = (state.db.clone(), state.config.retention);
    let (digest_db, issuer) = (state.db.clone(), state.issuer());
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(state).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        crate::startup::spawn_daily_purge(purge_db, retention);
        if digest_backfill {
            crate::startup::spawn_digest_backfill(digest_db, issuer);
        }
        tracing::info!(%bind, %public_url, "Cascade is serving; Ctrl-C stops it");
        app.run_until_stopped()
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

/// `cascade verify`: reads the signed claims out of the PDF and checks them against the keys.
fn verify_file(
    config: &Config,
    file: &std::path::Path,
    keys_file: Option<&std::path::Path>,
) -> Result<ExitCode, String> {
    use base64::Engine;
    use ed25519_dalek::VerifyingKey;

    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let keys: Vec<(String, VerifyingKey)> = match keys_file {
        Some(path) => {
            #[derive(serde::Deserialize)]
            struct Key {
                kid: String,
                public_key_base64: String,
            }
            let text =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let list: Vec<Key> = serde_json::from_slice(&text)
                .map_err(|_| format!("{} is not the JSON of GET /api/v1/keys", path.display()))?;
            list.into_iter()
                .filter_map(|k| {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(k.public_key_base64)
                        .ok()?;
                    let arr: [u8; 32] = raw.try_into().ok()?;
                    Some((k.kid, VerifyingKey::from_bytes(&arr).ok()?))
                })
                .collect()
        }
        None => {
            let issuer = crate::certificates::Issuer::from_config(config)?;
            vec![(issuer.kid(), issuer.signing_key().verifying_key())]
        }
    };
    let Some(envelope) = crate::certificates::pdf::extract_embedded_claims(&bytes) else {
        println!(
            "INVALID: {} carries no Cascade claims (not a Cascade certificate, or damaged)",
            file.display()
        );
        return Ok(ExitCode::from(1));
    };
    match crate::domain::certificates::verify_envelope(&envelope, &keys) {
        Ok(claims) => {
            let today = crate::certificates::issuance::today();
            let expired = claims.valid_until < today;
            println!(
                "{}: {} — {} — {} ({}) — {} — valid until {}",
                if expired { "EXPIRED" } else { "VALID" },
                claims.serial,
                claims.holder_name,
                claims.course_title,
                claims.curriculum_version,
                claims.issuer_name,
                claims.valid_until.format("%d/%m/%Y"),
            );
            println!(
                "The signature is genuine. Whether it has since been revoked is known online: {}/verify/{}",
                config.public_url, claims.verification_code
            );
            Ok(if expired {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
