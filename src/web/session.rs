//! The browser's session: two HttpOnly, SameSite=Strict cookies — the 15-minute access token
//! (`cascade_session`, the same the API accepts) and the refresh token (`cascade_refresh`, gone
//! when the browser closes). A page visit whose access token has expired while the session is
//! still open renews both (refresh rotation) instead of sending the person back to sign in.

use actix_web::body::MessageBody;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::auth::current_user::SESSION_COOKIE;
use crate::auth::sessions::TokenPair;
use crate::auth::tokens;
use crate::service::accounts;
use crate::startup::AppState;

/// Name of the cookie that carries the refresh token of a browser session.
pub const REFRESH_COOKIE: &str = "cascade_refresh";

fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// The cookies of a fresh token pair: the access token for its lifetime, the refresh token for
/// the life of the browser.
pub fn session_cookies(pair: &TokenPair, secure: bool) -> [Cookie<'static>; 2] {
    let mut access = cookie(SESSION_COOKIE, pair.access_token.clone(), secure);
    access.set_max_age(CookieDuration::seconds(tokens::ACCESS_TTL_SECS));
    [
        access,
        cookie(REFRESH_COOKIE, pair.refresh_token.clone(), secure),
    ]
}

/// Cookies that make the browser forget the session.
pub fn cleared_cookies() -> [Cookie<'static>; 2] {
    [SESSION_COOKIE, REFRESH_COOKIE].map(|name| {
        let mut c = cookie(name, String::new(), false);
        c.make_removal();
        c
    })
}

/// The refresh token to renew with, when this is a browser navigation whose access cookie is
/// missing or no longer verifies (only the signature and the dates are checked here; revocation
/// is the extractor's job).
fn needs_renewal(req: &ServiceRequest, state: &AppState) -> Option<String> {
    if req.headers().contains_key(header::AUTHORIZATION) || req.path().starts_with("/assets/") {
        return None;
    }
    // only a navigation renews: a page's sub-requests racing it would present the same refresh
    // token twice, and a reused refresh token ends the session
    let dest = req
        .headers()
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok());
    if dest.is_some_and(|d| d != "document") {
        return None;
    }
    let cookies = request_cookies(req);
    let value = |name: &str| {
        cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let refresh = value(REFRESH_COOKIE)?;
    let access_ok = value(SESSION_COOKIE)
        .is_some_and(|v| tokens::verify_access_token(&state.jwt_secret, &v).is_ok());
    (!access_ok && !refresh.is_empty()).then_some(refresh)
}

/// The request's cookies, read from its headers. (Not `req.cookies()`: that caches what it
/// parsed in the request, and the extractors downstream would then never see the swapped
/// access token.)
fn request_cookies(req: &ServiceRequest) -> Vec<(String, String)> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect()
}

/// Replaces the access token in the request's `Cookie` header, so the extractors downstream see
/// the renewed session.
fn swap_access_cookie(req: &mut ServiceRequest, access: &str) {
    let mut all: Vec<String> = request_cookies(req)
        .into_iter()
        .filter(|(name, _)| name != SESSION_COOKIE)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    all.push(format!("{SESSION_COOKIE}={access}"));
    if let Ok(value) = HeaderValue::from_str(&all.join("; ")) {
        req.headers_mut().insert(header::COOKIE, value);
    }
}

/// Middleware: renews an expired browser session before the request is served, and hands the
/// new cookies to the browser with the answer. A refresh token that no longer works clears the
/// cookies; the page then asks the person to sign in.
pub async fn renew_expired_session(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let Some(refresh) = needs_renewal(&req, &state) else {
        return next.call(req).await;
    };
    let secure = state.config.public_url.starts_with("https://");
    let renewed = accounts::renew(&state.db, &state.jwt_secret, refresh).await;
    let set = match &renewed {
        Ok(pair) => {
            swap_access_cookie(&mut req, &pair.access_token);
            session_cookies(pair, secure).to_vec()
        }
        Err(_) => {
            // the refresh token is spent or the session ended: forget both
            req.headers_mut().remove(header::COOKIE);
            cleared_cookies().to_vec()
        }
    };
    let mut res = next.call(req).await?;
    for c in set {
        if let Ok(value) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(res)
}
