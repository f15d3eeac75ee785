//! What an operator watches: `GET /metrics` in the Prometheus text format, rendered by
//! `metrics-exporter-prometheus` from the process's `metrics` recorder.
//!
//! Series (all prefixed `cascade_`):
//! - `http_requests_total{route, method, status}` and `http_request_duration_seconds{route}`
//!   (a histogram): `route` is the pattern that matched (`/api/v1/verify/{code}`), never the raw
//!   path, so neither a verification code nor a person's id becomes a label;
//! - `db_pool_connections{state="in_use"|"idle"}`, `db_pool_max_connections`,
//!   `db_gate_waiting` (requests queued for a blocking connection),
//!   `db_read_pool_connections{state}` (the worker threads' async pools together),
//!   `db_breaker_open` (1 while PostgreSQL is unreachable and requests are refused at once);
//! - `certificates_issued_total` (counted once the issuing transaction has committed),
//!   `logins_failed_total`, `throttled_requests_total{kind}` (429s: `login`, `verify`),
//!   `database_unavailable_total` (503 `unavailable` answers).
//!
//! Who may read it: `CASCADE_METRICS_ALLOW` (addresses and CIDR ranges, loopback by default),
//! matched against the client address as the trusted-proxy rules resolve it — behind a trusted
//! proxy, the address the proxy forwards, not the proxy's own (otherwise a proxy on the same
//! host would open the endpoint to everyone). Anyone else finds nothing there: their request
//! falls through to whatever answers an unknown path (404), so the endpoint is not advertised.
//! It is not part of the OpenAPI document, which describes the public API.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::guard::{self, GuardContext};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::AppError;
use crate::startup::AppState;

pub const HTTP_REQUESTS: &str = "cascade_http_requests_total";
pub const HTTP_DURATION: &str = "cascade_http_request_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "cascade_db_pool_connections";
pub const DB_POOL_MAX: &str = "cascade_db_pool_max_connections";
pub const DB_GATE_WAITING: &str = "cascade_db_gate_waiting";
pub const DB_READ_POOL_CONNECTIONS: &str = "cascade_db_read_pool_connections";
pub const DB_BREAKER_OPEN: &str = "cascade_db_breaker_open";
pub const CERTIFICATES_ISSUED: &str = "cascade_certificates_issued_total";
pub const LOGINS_FAILED: &str = "cascade_logins_failed_total";
pub const THROTTLED: &str = "cascade_throttled_requests_total";
pub const DATABASE_UNAVAILABLE: &str = "cascade_database_unavailable_total";

/// Upper bounds of the latency histogram's buckets, in seconds: the read path answers in
/// milliseconds, a cohort's finalise or ZIP in a second or more.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder folds recorded latencies into its histograms when nobody scrapes
/// (the exporter's own HTTP listener would do it; Cascade serves the page itself).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process's recorder the first time (the first [`AppState`] does), and returns it.
pub fn install() -> Result<&'static PrometheusHandle, String> {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
            describe();
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                })
                .map_err(|e| format!("cannot start the metrics upkeep thread: {e}"))?;
            Ok(handle)
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "Yêu cầu HTTP đã trả lời, theo mẫu đường dẫn và mã trạng thái."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Thời gian trả lời một yêu cầu HTTP, theo mẫu đường dẫn."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Kết nối của nhóm kết nối đồng bộ (đang dùng, rảnh)."
    );
    describe_gauge!(DB_POOL_MAX, "Số kết nối tối đa của nhóm kết nối đồng bộ.");
    describe_gauge!(
        DB_GATE_WAITING,
        "Yêu cầu đang chờ đến lượt lấy kết nối đồng bộ."
    );
    describe_gauge!(
        DB_READ_POOL_CONNECTIONS,
        "Kết nối đọc bất đồng bộ của các luồng xử lý (đang dùng, rảnh)."
    );
    describe_gauge!(
        DB_BREAKER_OPEN,
        "1 khi không kết nối được cơ sở dữ liệu và yêu cầu được trả 503 ngay."
    );
    describe_counter!(
        CERTIFICATES_ISSUED,
        "Chứng chỉ đã cấp (giao dịch cấp đã hoàn tất)."
    );
    describe_counter!(LOGINS_FAILED, "Lần đăng nhập thất bại.");
    describe_counter!(
        THROTTLED,
        "Yêu cầu bị từ chối vì vượt giới hạn (429), theo loại."
    );
    describe_counter!(
        DATABASE_UNAVAILABLE,
        "Câu trả lời 503 vì cơ sở dữ liệu không sẵn sàng."
    );
    // counters show from the start, at 0, rather than appearing with their first event
    for name in [CERTIFICATES_ISSUED, LOGINS_FAILED, DATABASE_UNAVAILABLE] {
        metrics::counter!(name).increment(0);
    }
    for kind in ["login", "verify"] {
        metrics::counter!(THROTTLED, "kind" => kind).increment(0);
    }
}

/// `n` certificates issued, once their transaction has committed.
pub fn certificates_issued(n: usize) {
    metrics::counter!(CERTIFICATES_ISSUED).increment(n as u64);
}

/// A sign-in refused for a wrong user name or password.
pub fn login_failed() {
    metrics::counter!(LOGINS_FAILED).increment(1);
}

/// A request refused by a throttle (`login`, `verify`).
pub fn throttled(kind: &'static str) {
    metrics::counter!(THROTTLED, "kind" => kind).increment(1);
}

/// The middleware (`from_fn`) that counts and times every request by its route pattern.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let answer = next.call(req).await;
    let status = match &answer {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    observe(route, method, status, started.elapsed());
    answer
}

fn observe(route: String, method: &'static str, status: StatusCode, took: Duration) {
    metrics::counter!(
        HTTP_REQUESTS,
        "route" => route.clone(),
        "method" => method,
        "status" => status.as_str().to_string()
    )
    .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route).record(took.as_secs_f64());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        metrics::counter!(DATABASE_UNAVAILABLE).increment(1);
    }
}

/// The method as a label: the usual ones by name, anything a client makes up as `other`, so a
/// client cannot grow the series without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Registers `GET /metrics` for the allowed addresses only.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .guard(guard::fn_guard(allowed))
            .route(web::get().to(serve)),
    );
}

/// Is the client (as the trusted-proxy rules resolve it) in `CASCADE_METRICS_ALLOW`?
fn allowed(ctx: &GuardContext) -> bool {
    let Some(state) = ctx.app_data::<web::Data<AppState>>() else {
        return false;
    };
    let head = ctx.head();
    let peer = head.peer_addr.map(|a| a.ip());
    crate::auth::current_user::client_ip(peer, &head.headers, &state.config.trusted_proxies)
        .is_some_and(|ip| is_allowed(ip, &state.config.metrics_allow))
}

fn is_allowed(ip: IpAddr, allow: &[ipnet::IpNet]) -> bool {
    // an IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d
    let ip = ip.to_canonical();
    allow.iter().any(|net| net.contains(&ip))
}

/// `GET /metrics`: the pools as they are now, then every series.
async fn serve(state: web::Data<AppState>) -> HttpResponse {
    let handle = match install() {
        Ok(handle) => handle,
        Err(e) => return AppError::internal(e).error_response(),
    };
    let pools = state.db.pool_stats();
    let in_use = pools.connections.saturating_sub(pools.idle);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(pools.idle));
    metrics::gauge!(DB_POOL_MAX).set(f64::from(pools.max_size));
    metrics::gauge!(DB_GATE_WAITING).set(pools.gate_waiting as f64);
    let read_in_use = pools.read_connections.saturating_sub(pools.read_idle);
    metrics::gauge!(DB_READ_POOL_CONNECTIONS, "state" => "in_use").set(read_in_use as f64);
    metrics::gauge!(DB_READ_POOL_CONNECTIONS, "state" => "idle").set(pools.read_idle as f64);
    metrics::gauge!(DB_BREAKER_OPEN).set(if pools.breaker_open { 1.0 } else { 0.0 });
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_client_of_a_dual_stack_listener_counts_as_its_ipv4_address() {
        let loopback: Vec<ipnet::IpNet> = vec!["127.0.0.0/8".parse().unwrap()];
        assert!(is_allowed("::ffff:127.0.0.1".parse().unwrap(), &loopback));
        assert!(!is_allowed("::ffff:10.0.0.1".parse().unwrap(), &loopback));
    }

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
