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
        Ok(AppState {
            db,
            config: Arc::new(config),
            jwt_secret,
            signing_key_seed,
            verify_limiter: crate::auth::throttle::RateLimiter::new(
                60,
                std::time::Duration::from_secs(60),
            ),
            clock: Clock::System,
        })
    }
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `config.bind` and builds the server; nothing runs until [`Self::run_until_stopped`].
    pub fn build(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(state.config.bind)?;
        Self::with_listener(listener, state)
    }

    pub fn with_listener(listener: TcpListener, state: AppState) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
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
                .configure(crate::api::configure)
                // the pages last: their scope answers every path the API did not take
                .configure(crate::web::configure)
                .default_service(web::to(|| async { AppError::NotFound.error_response() }))
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
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
