//! The database: connection pool, embedded migrations, the diesel schema and a way to run queries
//! off the async workers.

pub mod audit;
pub mod breaker;
pub mod bulk;
pub mod campaigns;
pub mod certificates;
pub mod cluster;
pub mod cohorts;
pub mod coverage_summary;
pub mod enrollments;
pub mod organizations;
pub mod outreach;
pub mod outreach_summary;
pub mod reads;
pub mod retention;
pub mod retirement;
pub mod schema;
pub mod targets;
pub mod training;
pub mod users;
pub mod views;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::r2d2::{Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;
use breaker::Breaker;

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

/// How long a request waits for a connection before its 503, whichever pool: well under the
/// one second in which a request must have its answer while PostgreSQL is down.
pub const CHECKOUT_WITHIN: Duration = Duration::from_millis(750);

/// The wait for a blocking connection goes in slices this long, so a caller notices within one
/// that a connect failed (the pool itself would keep retrying until its whole timeout).
const CHECKOUT_SLICE: Duration = Duration::from_millis(50);

/// libpq's and tokio-postgres's `connect_timeout`, in seconds, unless the URL sets one (libpq's
/// smallest): a host that drops packets costs a connect thread this long, never a request.
const CONNECT_TIMEOUT_SECS: u32 = 2;

/// The URL with a `connect_timeout` unless it names one.
pub fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={CONNECT_TIMEOUT_SECS}")
}

/// The answer while the breaker refuses callers.
fn refused() -> AppError {
    AppError::Unavailable("the last connect failed moments ago (breaker open)".into())
}

/// r2d2's manager for [`Conn`]: connects with libpq, checks only connections not known to be
/// good, and drops those that failed; every connect tells the [`Breaker`] how it went.
pub struct Manager {
    url: String,
    breaker: Arc<Breaker>,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        let conn = match PgConnection::establish(&self.url) {
            Ok(conn) => {
                self.breaker.connected();
                conn
            }
            Err(e) => {
                self.breaker.failed();
                return Err(diesel::r2d2::Error::ConnectionError(e));
            }
        };
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
    /// Shared by both kinds of pool: while PostgreSQL is unreachable, callers get their 503 at
    /// once rather than queueing for a pool's timeout.
    breaker: Arc<Breaker>,
    /// Callers waiting for a permit of the gate now.
    gate_waiting: Arc<AtomicUsize>,
    trees: Arc<organizations::TreeCache>,
    /// The key that seals personal values at rest (the CCCD), set by [`Db::with_data_key`]:
    /// every use case that reads or writes a sealed column holds the `Db` already.
    data_key: Option<Arc<crate::privacy::DataKey>>,
}

impl Db {
    /// Builds a pool that checks a connection before handing it out unless it worked moments ago
    /// (so a restarted PostgreSQL costs a check rather than a failed request, and a busy service
    /// no round trip), and that gives up quickly (503 within [`CHECKOUT_WITHIN`], at once while
    /// the [`Breaker`] is open) when the database is gone.
    pub fn connect(database_url: &str, size: u32) -> Result<Self, String> {
        let url = with_connect_timeout(database_url);
        let breaker = Arc::new(Breaker::default());
        let manager = Manager {
            url: url.clone(),
            breaker: breaker.clone(),
        };
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .test_on_check_out(true)
            // also paces the pool's own retries of a failed connect (half of it at most)
            .connection_timeout(CHECKOUT_WITHIN)
            // the breaker logs the outage once; the pool would log every failed retry
            .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
            .build_unchecked(manager);
        Ok(Db {
            pool,
            gate: Arc::new(tokio::sync::Semaphore::new(size as usize)),
            reads: Arc::default(),
            url: url.into(),
            breaker,
            gate_waiting: Arc::default(),
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
        // a probe keeps its guard until it has its connection or has given up
        let _admission = self.breaker.admit().ok_or_else(refused)?;
        let pool = self
            .reads
            .get_or_try(|| reads::pool(&self.url, self.reads_per_worker, self.breaker.clone()))?;
        match pool.get().await {
            Ok(conn) => {
                self.breaker.connected();
                Ok(conn)
            }
            Err(e) => Err(reads::unavailable(e, &self.breaker)),
        }
    }

    /// What the pools hold now, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        let (mut read_connections, mut read_idle) = (0, 0);
        for pool in self.reads.iter() {
            let status = pool.status();
            read_connections += status.size;
            read_idle += status.available;
        }
        PoolStats {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.pool.max_size(),
            gate_waiting: self.gate_waiting.load(Ordering::Relaxed),
            read_connections,
            read_idle,
            breaker_open: self.breaker.is_open(),
        }
    }

    /// The organisation tree as this process holds it.
    pub fn trees(&self) -> Arc<organizations::TreeCache> {
        self.trees.clone()
    }

    /// A connection on the current (blocking) thread, within [`CHECKOUT_WITHIN`] or a 503.
    pub fn get(&self) -> Result<PgConn, AppError> {
        checkout(&self.pool, &self.breaker)
    }

    /// Does the database answer `SELECT 1` within a second? A readiness probe must answer
    /// quickly either way, so it waits for a connection only that long.
    pub async fn answers(&self) -> Result<(), AppError> {
        use diesel::RunQueryDsl;
        let (pool, breaker) = (self.pool.clone(), self.breaker.clone());
        actix_web::web::block(move || -> Result<(), AppError> {
            let mut conn = checkout(&pool, &breaker)?;
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
        // while the database is known to be down, no queueing at the gate: the answer is now
        if self.breaker.refuses() {
            return Err(refused());
        }
        let (pool, breaker) = (self.pool.clone(), self.breaker.clone());
        let permit = {
            let _waiting = Waiting::on(&self.gate_waiting);
            self.gate
                .clone()
                .acquire_owned()
                .await
                .map_err(AppError::internal)?
        };
        actix_web::web::block(move || {
            let _permit = permit;
            let mut conn = checkout(&pool, &breaker)?;
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

/// A connection from the blocking pool: refused at once while the breaker is open (except for
/// its one probe), otherwise within [`CHECKOUT_WITHIN`], and sooner when a connect fails
/// meanwhile. Runs on a blocking thread.
fn checkout(pool: &PgPool, breaker: &Arc<Breaker>) -> Result<PgConn, AppError> {
    let admission = breaker.admit().ok_or_else(refused)?;
    let failures = breaker.failures();
    let deadline = Instant::now() + CHECKOUT_WITHIN;
    loop {
        match pool.get_timeout(CHECKOUT_SLICE) {
            Ok(conn) => {
                breaker.connected();
                return Ok(conn);
            }
            Err(e) => {
                if breaker.failures() != failures {
                    return Err(AppError::Unavailable(e.to_string()));
                }
                if Instant::now() >= deadline {
                    // no connect failed, none came: a host that does not answer counts as down
                    breaker.failed();
                    drop(admission);
                    return Err(AppError::Unavailable(e.to_string()));
                }
            }
        }
    }
}

/// Counts a caller waiting at the gate for as long as it waits (also when it gives up).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn on(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A snapshot of the pools for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    /// Connections of the blocking pool, in use or idle.
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
    /// Callers waiting for a permit of the gate.
    pub gate_waiting: usize,
    /// Connections of the worker threads' read pools together, and the idle ones among them.
    pub read_connections: usize,
    pub read_idle: usize,
    /// The breaker is open: the last connect failed.
    pub breaker_open: bool,
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
    let (count, summaries_new) = (
        applied.len(),
        // the summaries came, or a migration changed what they count
        applied
            .iter()
            .any(|v| ["20261129000012", "20261129000013"].contains(&v.to_string().as_str())),
    );
    drop(applied);
    // the reports' summaries start from what the tables already hold
    if summaries_new {
        crate::reports::summaries::rebuild(conn)
            .map_err(|e| format!("filling the report summaries failed: {e}"))?;
    }
    Ok(count)
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
