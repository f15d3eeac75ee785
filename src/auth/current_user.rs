//! The signed-in user as an extractor: a handler that takes a `CurrentUser` can only be reached
//! with a valid, unrevoked access token (Bearer header, or the session cookie of the web pages).

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use uuid::Uuid;

use crate::db::audit::AuditEvent;
use crate::db::reads;
use crate::db::users::UserView;
use crate::db::Db;
use crate::domain::access::Scope;
use crate::domain::people::Role;
use crate::error::AppError;
use crate::startup::AppState;

/// Name of the cookie that carries the access token for web pages.
pub const SESSION_COOKIE: &str = "cascade_session";

pub struct CurrentUser {
    pub id: Uuid,
    /// The login session of the token.
    pub session_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub organization_id: Uuid,
    pub roles: Vec<Role>,
    pub scope: Scope,
    /// The client's address, for audit events.
    pub address: String,
    /// The account as `GET /me` shows it, read in the same round trip.
    pub profile: UserView,
    db: Db,
}

/// What a blocking closure needs to know about the caller.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `None` for the command line (no person acts).
    pub id: Option<Uuid>,
    pub roles: Vec<Role>,
    pub scope: Scope,
    pub address: String,
    /// Where they work (nil for the command line).
    pub organization_id: Uuid,
}

impl Actor {
    /// The command line acts with an administrator's scope.
    pub fn command_line() -> Self {
        Actor {
            id: None,
            roles: vec![Role::Admin],
            scope: Scope::All,
            address: "cli".into(),
            organization_id: Uuid::nil(),
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// An administrator, or a coordinator whose scope covers `organization_id`.
    pub fn coordinates(&self, organization_id: Uuid) -> bool {
        self.has(Role::Admin)
            || (self.has(Role::Coordinator) && self.scope.covers_organization(organization_id))
    }
}

/// The client's address, for throttling and audit: the peer, or — when the peer is one of the
/// configured trusted proxies — the nearest untrusted hop of `X-Forwarded-For`. IPv6 clients
/// are counted by their /64, which one household or phone controls as a whole.
pub fn client_address(req: &HttpRequest) -> String {
    let trusted: &[std::net::IpAddr] = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.trusted_proxies.as_slice())
        .unwrap_or(&[]);
    let peer = req.peer_addr().map(|a| a.ip());
    match client_ip(peer, req.headers(), trusted) {
        Some(ip) => crate::domain::access::address_key(ip),
        None => "unknown".into(),
    }
}

/// The client's IP by the rules of [`client_address`]: the peer, or — when the peer is a
/// trusted proxy — the nearest hop of `X-Forwarded-For` that is not.
pub fn client_ip(
    peer: Option<std::net::IpAddr>,
    headers: &actix_web::http::header::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    match peer {
        Some(ip) if trusted.contains(&ip) => headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|list| {
                list.rsplit(',')
                    .filter_map(|hop| hop.trim().parse::<std::net::IpAddr>().ok())
                    .find(|hop| !trusted.contains(hop))
            })
            .or(Some(ip)),
        other => other,
    }
}

/// Where the token came from: a cookie rides along with any request the browser sends, so it
/// needs a check a header does not.
#[derive(PartialEq, Eq)]
enum TokenSource {
    Header,
    Cookie,
}

fn bearer_token(req: &HttpRequest) -> Option<(String, TokenSource)> {
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| (token.trim().to_string(), TokenSource::Header));
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| (c.value().to_string(), TokenSource::Cookie))
}

/// A change made with the session cookie must come from Cascade's own pages: the browser says
/// so with `Sec-Fetch-Site: same-origin` or an `Origin` equal to the public address. SameSite
/// alone does not stop a sibling subdomain, nor a form posting `text/csv`.
pub fn same_origin(req: &HttpRequest, public_url: &str) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("same-origin") {
        return true;
    }
    header("origin").is_some_and(|origin| origin.trim_end_matches('/') == public_url)
}

impl CurrentUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            roles: self.roles.clone(),
            scope: self.scope.clone(),
            address: self.address.clone(),
            organization_id: self.organization_id,
        }
    }

    /// Passes a result through, recording a 403 as a denied access.
    pub async fn audited<T>(
        &self,
        result: Result<T, AppError>,
        action: &'static str,
    ) -> Result<T, AppError> {
        match result {
            Err(AppError::Forbidden) => self.denied(action).await,
            other => other,
        }
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.roles.contains(r))
    }

    /// Allows the call when the user holds one of `roles`; otherwise records the denial and
    /// answers 403.
    pub async fn require_any(&self, roles: &[Role], action: &'static str) -> Result<(), AppError> {
        if self.has_any(roles) {
            return Ok(());
        }
        self.denied(action).await
    }

    /// Records a denied attempt and answers 403.
    pub async fn denied<T>(&self, action: &'static str) -> Result<T, AppError> {
        let (id, address) = (self.id, self.address.clone());
        let recorded = self
            .db
            .run(move |conn| {
                AuditEvent::new(Some(id), "access_denied", "endpoint")
                    .object(action)
                    .from_address(&address)
                    .record(conn)
                    .map_err(AppError::from)
            })
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not record a denied access");
        }
        Err(AppError::Forbidden)
    }
}

async fn authenticate(req: HttpRequest) -> Result<CurrentUser, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?
        .clone();
    let (token, source) = bearer_token(&req).ok_or(AppError::Unauthenticated)?;
    let safe_method = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    if source == TokenSource::Cookie && !safe_method && !same_origin(&req, &state.config.public_url)
    {
        return Err(AppError::Forbidden);
    }
    let verified = crate::auth::tokens::verify_access_token(&state.jwt_secret, &token)?;
    let (user_id, version, session_id) = (
        verified.user_id,
        verified.token_version,
        verified.session_id,
    );
    let db = state.db.clone();
    let address = client_address(&req);
    // one round trip: the account, its open session, roles and the tree's version
    let mut conn = db.read().await?;
    let found = match reads::signed_in(&mut conn, user_id, session_id).await? {
        Some(found) if found.active && found.token_version == version => found,
        _ => return Err(AppError::Unauthenticated),
    };
    let roles = found.view.roles.clone();
    let scope = if Scope::needs_subtree(&roles) {
        let tree = db.trees().at(&mut conn, found.tree_version).await?;
        Scope::for_roles(found.view.id, &roles, || {
            tree.subtree(found.view.organization.id)
        })
    } else {
        Scope::for_roles(found.view.id, &roles, Vec::new)
    };
    drop(conn);
    let profile = found.view;
    Ok(CurrentUser {
        id: profile.id,
        session_id,
        username: profile.username.clone(),
        full_name: profile.full_name.clone(),
        organization_id: profile.organization.id,
        roles,
        scope,
        address,
        profile,
        db: state.db.clone(),
    })
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}
