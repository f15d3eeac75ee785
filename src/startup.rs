//! Builds the HTTP application: shared state, middleware, routes. `cascade serve` and the tests
//! build it the same way.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Server, ServerHandle, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Compress, DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer, ResponseError};
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, ErrorCode};

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Key for signing access tokens (HS256), from `CASCADE_JWT_SECRET_FILE` or the data dir.
    pub jwt_secret: Vec<u8>,
    /// Seed of the Ed25519 key that signs certificates, from `CASCADE_SIGNING_KEY_FILE` or the data dir.
    pub signing_key_seed: [u8; 32],
    /// Public verification: 60 look-ups a minute per address.
    pub verify_limiter: crate::auth::throttle::RateLimiter,
    /// What day it is (in Vietnam): the real date, or a fixed one for tests.
    pub clock: Clock,
}

/// The calendar the rules read: issue dates, expiry, whether a cohort has ended.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    #[default]
    System,
    /// A fixed day; tests use it to act at dates of their choosing.
    Fixed(chrono::NaiveDate),
}

impl Clock {
    pub fn today(self) -> chrono::NaiveDate {
        match self {
            Clock::System => crate::certificates::issuance::today(),
            Clock::Fixed(day) => day,
        }
    }
}

impl AppState {
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    /// What certificate issuance needs from the state.
    pub fn issuer(&self) -> crate::certificates::Issuer {
        crate::certificates::Issuer {
            signing_key_seed: self.signing_key_seed,
            public_url: self.config.public_url.clone(),
        }
    }

    pub fn new(config: Config, db: Db) -> Result<Self, String> {
        let jwt_path = config
            .jwt_secret_file
            .clone()
            .unwrap_or_else(|| config.data_path("jwt-secret"));
        let jwt_secret = crate::secrets::load_or_create(&jwt_path, 64)?;
        let issuer = crate::certificates::Issuer::from_config(&config)?;
        // publish the signing key once, at start, so `GET /keys` only reads
        let mut conn = db
            .get()
            .map_err(|e| format!("cannot reach the database: {e}"))?;
        crate::certificates::issuance::register_key(&mut conn, &issuer)
            .map_err(|e| format!("cannot record the signing key: {e}"))?;
        // the data key seals the CCCD; numbers an older release left in clear are sealed now,
        // before anything is served
        let data_key = crate::privacy::load_data_key(&config.data_key_path())?;
        crate::service::people::seal_plain_national_ids(&mut conn, &data_key)
            .map_err(|e| format!("cannot seal the stored CCCDs: {e}"))?;
        // the pool carries it: every use case that reads or writes a sealed column holds the pool
        let db = db.with_data_key(Arc::new(data_key));
        let signing_key_seed = issuer.signing_key_seed;
        // the process's metrics recorder, before the first request counts anything
        crate::metrics::install()?;
        Ok(AppState {
            db,
            config: Arc::new(config),
            jwt_secret,
            signing_key_seed,
            verify_limiter: crate::auth::throttle::RateLimiter::new(
                60,
                std::time::Duration::from_secs(60),
            )
            .named("verify"),
            clock: Clock::System,
        })
    }
}

pub struct Application {
    port: u16,
    server: Server,
    draining: web::Data<Draining>,
}

/// Set once a stop signal came: every answer from then on closes its connection, so a client's
/// next request opens a new one (refused once the listener is closed: the client knows it was
/// not served) rather than racing the server's close of a kept-alive connection.
#[derive(Default)]
pub struct Draining(std::sync::atomic::AtomicBool);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The middleware (`from_fn`) that asks the client to close its connection while draining.
async fn close_when_draining(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let draining = res
        .request()
        .app_data::<web::Data<Draining>>()
        .is_some_and(|d| d.is_on());
    if draining {
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(res)
}

impl Application {
    /// Binds `config.bind` and builds the server; nothing runs until [`Self::run_until_stopped`].
    pub fn build(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(state.config.bind)?;
        Self::with_listener(listener, state)
    }

    pub fn with_listener(listener: TcpListener, state: AppState) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        ensure_may_campaign(&state);
        let state = web::Data::new(state);
        let draining = web::Data::new(Draining::default());
        let draining_flag = draining.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(draining_flag.clone())
                .app_data(crate::api::json_config())
                .app_data(crate::api::path_config())
                .app_data(crate::api::query_config())
                .wrap(ErrorHandlers::new().default_handler(json_error_for_bare_errors))
                .wrap(security_headers())
                .wrap(Compress::default())
                .wrap(actix_web::middleware::from_fn(
                    crate::web::session::renew_expired_session,
                ))
                .wrap(TracingLogger::<crate::telemetry::PathOnlyRootSpan>::new())
                // outermost: it sees every answer as it leaves, errors included
                .wrap(actix_web::middleware::from_fn(crate::metrics::record))
                .wrap(actix_web::middleware::from_fn(close_when_draining))
                .configure(crate::api::configure)
                // operator-only, outside /api/v1; to anyone not allowed it does not exist (404)
                .configure(crate::metrics::configure)
                // the pages last: their scope answers every path the API did not take
                .configure(crate::web::configure)
                .default_service(web::to(|| async { AppError::NotFound.error_response() }))
        })
        .listen(listener)?
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        // SIGTERM and SIGINT are handled in `run_until_stopped`, which drains first
        .disable_signals()
        .run();
        Ok(Application {
            port,
            server,
            draining,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight (graceful shutdown):
    /// answers from then on close their connections; after [`DRAIN_GRACE`] — time for every
    /// request already sent on a kept-alive connection to be read and started — the listener
    /// closes and the workers stop once their requests are done, within
    /// [`SHUTDOWN_TIMEOUT_SECS`]. (Stopping at once would drop a request that had arrived on a
    /// kept-alive connection but not yet been started: actix does not start it, and the client
    /// sees its connection reset.)
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let draining = self.draining.clone();
        actix_web::rt::spawn(async move {
            if let Err(e) = stop_signal().await {
                tracing::warn!(error = %e, "cannot listen for SIGTERM/SIGINT; stop the server another way");
                return;
            }
            draining.start();
            tracing::info!(
                grace_ms = DRAIN_GRACE.as_millis() as u64,
                timeout_secs = SHUTDOWN_TIMEOUT_SECS,
                "stop signal: finishing the requests in flight"
            );
            actix_web::rt::time::sleep(DRAIN_GRACE).await;
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// Makes sure the national May campaign of the current year exists (one idempotent statement);
/// a failure is logged, never fatal: the campaign can still be added by hand.
fn ensure_may_campaign(state: &AppState) {
    use chrono::Datelike;
    let year = state.today().year();
    let added = state
        .db
        .get()
        .and_then(|mut conn| crate::service::campaigns::ensure_may_campaign(&mut conn, year));
    match added {
        Ok(0) => {}
        Ok(_) => tracing::info!(year, "the national May campaign was added"),
        Err(e) => tracing::warn!(error = %e, year, "cannot make sure of the May campaign"),
    }
}

/// How long a graceful stop waits for the requests in flight before it drops them.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// After a stop signal, how long the server goes on reading requests (each answered with
/// `Connection: close`) before its listener closes.
pub const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Resolves at the first SIGTERM or SIGINT; an error when the handlers cannot be installed (the
/// server then runs until stopped through its handle).
async fn stop_signal() -> std::io::Result<()> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    futures_util::future::select(Box::pin(terminate.recv()), Box::pin(interrupt.recv())).await;
    Ok(())
}

/// The first daily purge runs this long after the server starts (not at once: a restart loop
/// should not purge in a loop, and start-up has work enough).
pub const FIRST_PURGE_AFTER: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// Then once every day.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Starts the daily retention purge on the current actix runtime: first after
/// [`FIRST_PURGE_AFTER`], then every [`PURGE_EVERY`]. The deleting runs on the blocking threads;
/// a failure is logged and the next day tries again, never stopping the server. The task ends
/// with the runtime.
pub fn spawn_daily_purge(db: Db, retention: crate::domain::retention::Retention) {
    actix_web::rt::spawn(async move {
        actix_web::rt::time::sleep(FIRST_PURGE_AFTER).await;
        loop {
            match crate::service::retention::purge(&db, chrono::Utc::now(), &retention).await {
                Ok(report) => tracing::info!(
                    login_attempts = report.login_attempts,
                    read_events = report.read_events,
                    sessions = report.sessions,
                    "retention purge done"
                ),
                Err(e) => tracing::error!(error = %e, "retention purge failed; retrying tomorrow"),
            }
            actix_web::rt::time::sleep(PURGE_EVERY).await;
        }
    });
}

/// Records, once, the PDF digests a crash left unrecorded (between an issuance's commit and its
/// digests), on the blocking threads while the server already answers; a failure is logged.
pub fn spawn_digest_backfill(db: Db, issuer: crate::certificates::Issuer) {
    actix_web::rt::spawn(async move {
        match crate::service::certification::record_missing_digests(&db, issuer).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                certificates = n,
                "recorded PDF digests left by an interrupted issuance"
            ),
            Err(e) => tracing::error!(error = %e, "could not record the missing PDF digests"),
        }
    });
}

/// Headers on every response, errors included.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ))
        .add((header::CACHE_CONTROL, "no-store"))
}

/// actix answers some errors itself (405, a payload it could not read) with an empty or plain
/// body; give every such response the JSON error body of the API contract instead.
fn json_error_for_bare_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json_or_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_json_or_html {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = match status.as_u16() {
        400 => AppError::BadRequest("Không đọc được yêu cầu.".into()),
        401 => AppError::Unauthenticated,
        403 => AppError::Forbidden,
        404 => AppError::NotFound,
        405 => AppError::Conflict {
            code: ErrorCode::MethodNotAllowed,
            message: "Địa chỉ này không hỗ trợ phương thức HTTP của yêu cầu.".into(),
        },
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType,
        503 => AppError::Unavailable(String::new()),
        _ => AppError::Internal(format!("bare error response with status {status}")),
    };
    let (req, old) = res.into_parts();
    let mut new: HttpResponse<BoxBody> = HttpResponse::build(status).json(error.body());
    // keep what the original said beyond its body (Allow, Retry-After, ...)
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::ConnectionType;
    use actix_web::test;

    #[actix_web::test]
    async fn once_draining_every_answer_closes_its_connection() {
        let draining = web::Data::new(Draining::default());
        let app = test::init_service(
            App::new()
                .app_data(draining.clone())
                .wrap(actix_web::middleware::from_fn(close_when_draining))
                .route("/", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let before = test::call_service(&app, test::TestRequest::get().to_request()).await;
        assert_ne!(
            before.response().head().connection_type(),
            ConnectionType::Close
        );
        draining.start();
        let after = test::call_service(&app, test::TestRequest::get().to_request()).await;
        assert_eq!(after.status(), 200);
        assert_eq!(
            after.response().head().connection_type(),
            ConnectionType::Close
        );
    }
}
