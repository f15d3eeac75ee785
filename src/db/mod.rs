//! The database: connection pool, embedded migrations, the diesel schema and a way to run queries
//! off the async workers.

pub mod audit;
pub mod certificates;
pub mod cluster;
pub mod cohorts;
pub mod enrollments;
pub mod organizations;
pub mod schema;
pub mod training;
pub mod users;
pub mod views;

use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

/// The shared pool, cheap to clone. Queries run through [`Db::run`], on actix's blocking threads.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Builds a pool that checks each connection before handing it out, so a restarted PostgreSQL
    /// costs one failed check rather than a failed request, and that gives up quickly (503) when
    /// the database is gone.
    pub fn connect(database_url: &str, size: u32) -> Result<Self, String> {
        let manager = ConnectionManager::<PgConnection>::new(database_url);
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .test_on_check_out(true)
            .connection_timeout(Duration::from_secs(3))
            .build_unchecked(manager);
        Ok(Db { pool })
    }

    pub fn get(&self) -> Result<PgConn, AppError> {
        Ok(self.pool.get()?)
    }

    /// Does the database answer `SELECT 1` within a second? A readiness probe must answer
    /// quickly either way, so it waits for a connection only that long.
    pub async fn answers(&self) -> Result<(), AppError> {
        use diesel::RunQueryDsl;
        let pool = self.pool.clone();
        actix_web::web::block(move || -> Result<(), AppError> {
            let mut conn = pool
                .get_timeout(Duration::from_secs(1))
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            diesel::sql_query("SELECT 1")
                .execute(&mut conn)
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            Ok(())
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Runs `f` with a pooled connection on a blocking thread; getting the connection happens
    /// there too, so a slow pool never stalls an async worker.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(AppError::internal)?
    }
}

/// Applies every pending migration (schema and reference data); returns how many ran.
pub fn migrate(database_url: &str) -> Result<usize, String> {
    let mut conn = PgConnection::establish(database_url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    migrate_connection(&mut conn)
}

pub fn migrate_connection(conn: &mut PgConnection) -> Result<usize, String> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| format!("migration failed: {e}"))?;
    Ok(applied.len())
}

/// The database the service uses: the configured `DATABASE_URL`, or a private cluster it runs
/// (and stops when this value is dropped).
pub struct Database {
    pub url: String,
    pub cluster: Option<cluster::PostgresCluster>,
}

impl Database {
    /// Name of the database inside the private cluster.
    pub const PRIVATE_NAME: &'static str = "cascade";

    pub fn open(config: &crate::Config) -> Result<Self, String> {
        if let Some(url) = &config.database_url {
            return Ok(Database {
                url: url.clone(),
                cluster: None,
            });
        }
        let dir = config.private_cluster_dir();
        tracing::info!(dir = %dir.display(), "DATABASE_URL is unset: running a private PostgreSQL");
        let cluster = cluster::PostgresCluster::start(&dir).map_err(|e| e.to_string())?;
        create_database_if_missing(&cluster.database_url("postgres"), Self::PRIVATE_NAME)?;
        Ok(Database {
            url: cluster.database_url(Self::PRIVATE_NAME),
            cluster: Some(cluster),
        })
    }

    /// Stops the private cluster, if there is one.
    pub fn close(mut self) {
        if let Some(mut cluster) = self.cluster.take() {
            match cluster.stop() {
                Ok(()) => tracing::info!("private PostgreSQL stopped"),
                Err(e) => tracing::warn!(error = %e, "could not stop the private PostgreSQL"),
            }
        }
    }
}

/// `CREATE DATABASE name` unless it exists; `name` must be a plain identifier.
pub fn create_database_if_missing(admin_url: &str, name: &str) -> Result<(), String> {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;

    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a plain database name"));
    }
    let mut conn = PgConnection::establish(admin_url)
        .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result(&mut conn)
            .map_err(|e| format!("cannot list databases: {e}"))?;
    if !found.exists {
        diesel::sql_query(format!(
            "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
        ))
        .execute(&mut conn)
        .map_err(|e| format!("cannot create database {name}: {e}"))?;
    }
    Ok(())
}
