//! The database: connection pool, embedded migrations, the diesel schema and a way to run queries
//! off the async workers.

pub mod audit;
pub mod certificates;
pub mod cluster;
pub mod cohorts;
pub mod enrollments;
pub mod organizations;
pub mod reads;
pub mod retention;
pub mod retirement;
pub mod schema;
pub mod training;
pub mod users;
pub mod views;

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::r2d2::{Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<Manager>;
pub type PgConn = PooledConnection<Manager>;

/// A pooled connection, with what the pool needs to decide whether to check it before use.
pub struct Conn {
    conn: PgConnection,
    /// When it last finished a piece of work without trouble.
    last_ok: Instant,
    /// A piece of work on it failed in a way that may mean the connection is gone.
    suspect: bool,
}

impl std::ops::Deref for Conn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// How long after a connection last worked the pool trusts it without a `SELECT 1` (HikariCP's
/// "alive bypass window"): under load no checkout pays a round trip, and a connection that sat
/// idle — as every connection does while PostgreSQL is down — is checked before it is handed out.
const TRUSTED_FOR: Duration = Duration::from_millis(500);

/// r2d2's manager for [`Conn`]: connects with libpq, checks only connections not known to be
/// good, and drops those that failed.
pub struct Manager {
    url: String,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        let conn =
            PgConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Conn {
            conn,
            last_ok: Instant::now(),
            suspect: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        if !conn.suspect && conn.last_ok.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        use diesel::connection::SimpleConnection;
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)?;
        conn.last_ok = Instant::now();
        conn.suspect = false;
        Ok(())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        use diesel::r2d2::R2D2Connection;
        std::thread::panicking() || conn.suspect || conn.conn.is_broken()
    }
}

/// The shared pool, cheap to clone. Queries run through [`Db::run`], on actix's blocking threads.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    /// One permit per pooled connection: requests queue here, first come first served, on the
    /// async side, rather than as blocked threads racing for the pool's lock.
    gate: Arc<tokio::sync::Semaphore>,
    /// Each worker thread's pool of async connections for [`reads`].
    reads: Arc<thread_local::ThreadLocal<deadpool::managed::Pool<reads::Manager>>>,
    url: Arc<str>,
    reads_per_worker: usize,
    trees: Arc<organizations::TreeCache>,
    /// The key that seals personal values at rest (the CCCD), set by [`Db::with_data_key`]:
    /// every use case that reads or writes a sealed column holds the `Db` already.
    data_key: Option<Arc<crate::privacy::DataKey>>,
}

impl Db {
    /// Builds a pool that checks a connection before handing it out unless it worked moments ago
    /// (so a restarted PostgreSQL costs a check rather than a failed request, and a busy service
    /// no round trip), and that gives up quickly (503) when the database is gone.
    pub fn connect(database_url: &str, size: u32) -> Result<Self, String> {
        let manager = Manager {
            url: database_url.to_string(),
        };
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .test_on_check_out(true)
            .connection_timeout(Duration::from_secs(3))
            .build_unchecked(manager);
        Ok(Db {
            pool,
            gate: Arc::new(tokio::sync::Semaphore::new(size as usize)),
            reads: Arc::default(),
            url: database_url.into(),
            // actix runs a worker per core: their read pools together match the blocking pool
            reads_per_worker: (size as usize / 2).max(2),
            trees: Arc::default(),
            data_key: None,
        })
    }

    /// This pool with the data key that seals personal values.
    pub fn with_data_key(mut self, key: Arc<crate::privacy::DataKey>) -> Self {
        self.data_key = Some(key);
        self
    }

    /// The data key; an internal error if the pool was built without one.
    pub fn data_key(&self) -> Result<Arc<crate::privacy::DataKey>, AppError> {
        self.data_key
            .clone()
            .ok_or_else(|| AppError::internal("the database pool has no data key"))
    }

    /// A connection from this worker thread's read pool (see [`reads`]).
    pub async fn read(&self) -> Result<reads::ReadConn, AppError> {
        let pool = self
            .reads
            .get_or_try(|| reads::pool(&self.url, self.reads_per_worker))?;
        pool.get().await.map_err(reads::unavailable)
    }

    /// The organisation tree as this process holds it.
    pub fn trees(&self) -> Arc<organizations::TreeCache> {
        self.trees.clone()
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
                .execute(&mut **conn)
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
        let permit = self
            .gate
            .clone()
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        actix_web::web::block(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            let result = f(&mut conn);
            match &result {
                Err(AppError::Unavailable(_) | AppError::Internal(_)) => conn.suspect = true,
                _ => conn.last_ok = Instant::now(),
            }
            result
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
