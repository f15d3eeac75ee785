//! Reliability: failing fast while PostgreSQL is down and recovering without a restart, and
//! `GET /metrics` for the operator.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cascade::db::cluster::PostgresCluster;
use futures_util::future::join_all;

use crate::harness::{assert_status, spawn_app, spawn_app_on, spawn_app_with, Answer, TestApp};

/// The app on a database of a PostgreSQL of its own, which the test may stop and start again
/// (the shared test cluster serves every other test).
async fn app_on_own_cluster() -> (TestApp, PostgresCluster) {
    let cluster = PostgresCluster::start_throwaway().expect("start a PostgreSQL for this test");
    let name = "cascade_outage";
    cascade::db::create_database_if_missing(&cluster.database_url("postgres"), name)
        .expect("create the database");
    let app = spawn_app_on(name.to_string(), cluster.database_url(name)).await;
    (app, cluster)
}

/// `GET path` with its time.
async fn timed(app: &TestApp, path: &str, token: Option<&str>) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = app.get(path, token).await;
    (answer, started.elapsed())
}

#[actix_web::test]
async fn with_postgres_down_requests_answer_503_within_a_second_and_recover_when_it_returns() {
    let (app, mut cluster) = app_on_own_cluster().await;
    app.person("quantri", "BNV", &["admin"], "civil_servant");
    let token = app.login("quantri").await;
    let paths = [
        "/api/v1/me",
        "/api/v1/verify/ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345",
        "/readyz",
        "/api/v1/courses",
    ];
    for path in paths {
        let (answer, _) = timed(&app, path, Some(&token)).await;
        assert!(
            answer.status.as_u16() < 500,
            "{path} before the outage: {}",
            answer.status
        );
    }

    let root = cluster
        .data_dir()
        .parent()
        .expect("the cluster's folder")
        .to_path_buf();
    cluster.stop().expect("stop PostgreSQL");

    // three waves of concurrent requests on the blocking pool (/readyz, courses), the read pools
    // (/me, verify) and a sign-in: every one a 503 within the second, none queued for a timeout
    let wave_started = Instant::now();
    for _ in 0..3 {
        let requests = (0..24).map(|i| {
            let path = paths[i % paths.len()];
            timed(&app, path, Some(&token))
        });
        let login = async {
            let started = Instant::now();
            let answer = app.login_answer("quantri", crate::harness::PASSWORD).await;
            (answer, started.elapsed())
        };
        let (mut answers, signed_in) = futures_util::future::join(join_all(requests), login).await;
        answers.push(signed_in);
        for (answer, took) in &answers {
            assert_status(answer, 503);
            assert_eq!(answer.error_code(), "unavailable");
            assert!(
                answer.json["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("cơ sở dữ liệu")),
                "the message a person reads: {}",
                answer.json
            );
            assert_eq!(answer.header("retry-after").as_deref(), Some("1"));
            assert!(
                *took < Duration::from_secs(1),
                "a 503 took {took:?} while PostgreSQL was down"
            );
        }
    }
    assert!(
        wave_started.elapsed() < Duration::from_secs(3),
        "75 requests in three waves took {:?}: they queued",
        wave_started.elapsed()
    );

    // PostgreSQL back (same folder, same socket), Cascade untouched
    let _back = PostgresCluster::start(&root).expect("start PostgreSQL again");
    // the breaker lets a probe through once the cooldown of the last failed connect has passed
    actix_web::rt::time::sleep(cascade::db::breaker::COOLDOWN).await;
    let (me, took) = timed(&app, "/api/v1/me", Some(&token)).await;
    assert_status(&me, 200);
    assert!(
        took < Duration::from_secs(1),
        "the first request after took {took:?}"
    );
    assert_eq!(me.json["username"], "quantri");
    let (courses, _) = timed(&app, "/api/v1/courses", Some(&token)).await;
    assert_status(&courses, 200);
    let (ready, _) = timed(&app, "/readyz", None).await;
    assert_status(&ready, 200);
    let (unknown, _) = timed(
        &app,
        "/api/v1/verify/ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345",
        None,
    )
    .await;
    assert_status(&unknown, 404);
}

/// One sample of the exposition: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the Prometheus text format strictly enough to fail on anything malformed: every
/// sample line `name{label="value",...} number` of a family declared by `# TYPE`.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with("# HELP ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("a TYPE line names its type");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "type {kind}"
            );
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment line: {line}");
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (
                name,
                parse_labels(rest.strip_suffix('}').expect("labels end with }")),
            ),
            None => (series, BTreeMap::new()),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "metric name {name:?}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "{name} has no # TYPE line before it"
        );
        samples.push((name.to_string(), labels, value));
    }
    samples
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label {name} has a quoted value");
        let mut value = String::new();
        loop {
            match chars.next().expect("the label value ends") {
                '\\' => match chars.next().expect("an escape") {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(name.trim().to_string(), value);
        match chars.next() {
            Some(',') | None => {}
            Some(c) => panic!("unexpected {c:?} after label value"),
        }
    }
    labels
}

/// The value of the series `name` whose labels include `with`.
fn value(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, labels, _)| {
            n == name
                && with
                    .iter()
                    .all(|(k, v)| labels.get(*k).is_some_and(|l| l == v))
        })
        .map(|(_, _, v)| *v)
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let answer = app.get("/metrics", None).await;
    assert_status(&answer, 200);
    assert!(answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    parse_exposition(&String::from_utf8(answer.body).expect("UTF-8"))
}

#[actix_web::test]
async fn metrics_parse_and_carry_requests_pools_certificates_logins_and_throttling() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let issued_before =
        value(&before, "cascade_certificates_issued_total", &[]).expect("issued counter");
    let failed_before = value(&before, "cascade_logins_failed_total", &[]).expect("failed");

    // traffic: a finished cohort issues three certificates; a wrong password; an unknown code
    let c = crate::training::chain(&app).await;
    let (_, done) = crate::certificates::finished_cohort(&app, &c).await;
    assert_eq!(done.json["issued"].as_array().map(Vec::len), Some(3));
    assert_status(&app.login_answer("quantri", "sai-mật-khẩu").await, 401);
    let code = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345";
    assert_status(&app.get(&format!("/api/v1/verify/{code}"), None).await, 404);

    let after = scrape(&app).await;
    let issued = value(&after, "cascade_certificates_issued_total", &[]).expect("issued");
    assert!(issued >= issued_before + 3.0, "{issued_before} → {issued}");
    let failed = value(&after, "cascade_logins_failed_total", &[]).expect("failed");
    assert!(failed > failed_before, "{failed_before} → {failed}");

    // requests by route pattern and status, never the raw path
    let route = "/api/v1/verify/{code}";
    assert!(
        value(
            &after,
            "cascade_http_requests_total",
            &[("route", route), ("method", "GET"), ("status", "404")]
        )
        .is_some_and(|n| n >= 1.0),
        "verify counted by its route pattern"
    );
    assert!(
        after
            .iter()
            .all(|(_, labels, _)| labels.values().all(|v| !v.contains(code))),
        "a verification code became a label"
    );
    let login_route = [("route", "/api/v1/auth/login"), ("status", "401")];
    assert!(value(&after, "cascade_http_requests_total", &login_route).is_some());
    // the latency histogram by route: buckets up to +Inf, and a count
    let infinite = value(
        &after,
        "cascade_http_request_duration_seconds_bucket",
        &[("route", route), ("le", "+Inf")],
    )
    .expect("+Inf bucket");
    let count = value(
        &after,
        "cascade_http_request_duration_seconds_count",
        &[("route", route)],
    )
    .expect("count");
    assert!(infinite >= 1.0 && (infinite - count).abs() < f64::EPSILON);

    // the pools, the gate, the breaker; throttles and 503s from the start at least at 0
    for (name, labels) in [
        ("cascade_db_pool_connections", vec![("state", "in_use")]),
        ("cascade_db_pool_connections", vec![("state", "idle")]),
        ("cascade_db_pool_max_connections", vec![]),
        ("cascade_db_gate_waiting", vec![]),
        ("cascade_db_read_pool_connections", vec![("state", "idle")]),
        ("cascade_db_breaker_open", vec![]),
        ("cascade_throttled_requests_total", vec![("kind", "login")]),
        ("cascade_throttled_requests_total", vec![("kind", "verify")]),
        ("cascade_database_unavailable_total", vec![]),
    ] {
        assert!(
            value(&after, name, &labels).is_some(),
            "{name} {labels:?} missing"
        );
    }
    assert_eq!(
        value(&after, "cascade_db_pool_max_connections", &[]),
        Some(8.0)
    );
    assert_eq!(value(&after, "cascade_db_breaker_open", &[]), Some(0.0));
    assert!(value(
        &after,
        "cascade_db_read_pool_connections",
        &[("state", "idle")]
    )
    .is_some_and(|n| n >= 1.0));
}

#[actix_web::test]
async fn throttled_verifications_are_counted_by_kind() {
    let app = spawn_app().await;
    let kind = [("kind", "verify")];
    let before = value(
        &scrape(&app).await,
        "cascade_throttled_requests_total",
        &kind,
    )
    .expect("verify throttle counter");
    let mut refused = 0;
    for _ in 0..62 {
        if app
            .get("/api/v1/verify/ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345", None)
            .await
            .status
            == 429
        {
            refused += 1;
        }
    }
    assert!(refused >= 2, "the 61st and 62nd look-ups are refused");
    let after = value(
        &scrape(&app).await,
        "cascade_throttled_requests_total",
        &kind,
    )
    .expect("verify throttle counter");
    assert!(after >= before + f64::from(refused), "{before} → {after}");
}

/// `GET path` with an `X-Forwarded-For`; the status and body.
async fn get_forwarded(app: &TestApp, path: &str, forwarded_for: &str) -> (u16, Vec<u8>) {
    let mut res = app
        .client
        .get(app.url(path))
        .insert_header(("x-forwarded-for", forwarded_for))
        .send()
        .await
        .expect("send request");
    let body = res.body().await.expect("read body").to_vec();
    (res.status().as_u16(), body)
}

#[actix_web::test]
async fn metrics_are_a_404_to_addresses_not_allowed() {
    let (name, url) = crate::harness::fresh_database();
    let app = spawn_app_with(name, url, &[("CASCADE_METRICS_ALLOW", "10.1.2.0/24")]).await;
    let metrics = app.get("/metrics", None).await;
    let nothing = app.get("/no-such-page", None).await;
    assert_status(&metrics, 404);
    // the same answer as for a path that does not exist: nothing says the endpoint is there
    assert_eq!(metrics.body, nothing.body);
    assert_eq!(
        metrics.header("content-type"),
        nothing.header("content-type")
    );
    assert!(!String::from_utf8_lossy(&metrics.body).contains("cascade_"));
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_client_decides_who_reads_metrics() {
    // the proxy runs on this host: its loopback address must not open /metrics to the world
    let (name, url) = crate::harness::fresh_database();
    let app = spawn_app_with(
        name,
        url,
        &[
            ("CASCADE_TRUSTED_PROXIES", "127.0.0.1"),
            ("CASCADE_METRICS_ALLOW", "127.0.0.1, 192.0.2.10"),
        ],
    )
    .await;
    let (status, body) = get_forwarded(&app, "/metrics", "203.0.113.9").await;
    assert_eq!(status, 404);
    assert!(!String::from_utf8_lossy(&body).contains("cascade_"));
    let (status, body) = get_forwarded(&app, "/metrics", "192.0.2.10").await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("cascade_http_requests_total"));
}

#[actix_web::test]
async fn metrics_are_not_in_the_public_api_document() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await;
    assert_status(&doc, 200);
    let paths = doc.json["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    assert!(
        paths.keys().all(|p| !p.contains("metrics")),
        "{:?}",
        paths.keys()
    );
}
