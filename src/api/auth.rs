//! `/auth/*` and `/me`: logging in and out, refreshing, who am I, changing one's password.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::current_user::{client_address, CurrentUser, SESSION_COOKIE};
use crate::auth::{password, sessions, throttle, tokens};
use crate::db::audit::AuditEvent;
use crate::db::schema::users;
use crate::db::users as user_rows;
use crate::domain::people::check_new_password;
use crate::error::AppError;
use crate::startup::AppState;
use diesel::prelude::*;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.public_url.starts_with("https://"))
        .max_age(CookieDuration::seconds(tokens::ACCESS_TTL_SECS))
        .finish()
}

fn cleared_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    c.make_removal();
    c
}

/// Signs in. The same 401 for an unknown user and a wrong password, after the same work.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = sessions::TokenPair), (status = 401, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
#[post("/auth/login")]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest {
        username,
        password: given,
    } = body.into_inner();
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.len() > 64 || given.len() > 1024 {
        return Err(AppError::InvalidCredentials);
    }
    let address = client_address(&req);

    let (u, a) = (username.clone(), address.clone());
    let (attempt, account) = state
        .db
        .run(move |conn| {
            let attempt = throttle::begin_attempt(conn, &u, &a)?;
            let account = user_rows::find_by_username(conn, &u)?;
            Ok((attempt, account))
        })
        .await?;
    let attempt = attempt.map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    let usable = account.filter(|a| a.active && a.password_hash.is_some());
    let ok = password::verify(
        usable.as_ref().and_then(|a| a.password_hash.clone()),
        given.clone(),
    )
    .await?;
    let rehash = match (&usable, ok) {
        (Some(a), true)
            if a.password_hash
                .as_deref()
                .is_some_and(password::needs_rehash) =>
        {
            Some(password::hash(given).await?)
        }
        _ => None,
    };

    let secret = state.jwt_secret.clone();
    let pair = state
        .db
        .run(move |conn| {
            let Some(account) = usable.filter(|_| ok) else {
                // the attempt stays recorded as a failure
                AuditEvent::new(None, "login_failed", "user")
                    .from_address(&address)
                    .details(json!({ "username": username }))
                    .record(conn)?;
                return Ok(None);
            };
            throttle::forget_attempt(conn, attempt, &username)?;
            if let Some(hash) = rehash {
                diesel::update(users::table.find(account.id))
                    .set(users::password_hash.eq(hash))
                    .execute(conn)?;
            }
            AuditEvent::new(Some(account.id), "login", "user")
                .object(account.id)
                .from_address(&address)
                .record(conn)?;
            sessions::issue(
                conn,
                &secret,
                account.id,
                account.token_version,
                Uuid::new_v4(),
            )
            .map(Some)
        })
        .await?
        .ok_or(AppError::InvalidCredentials)?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, &pair.access_token))
        .json(pair))
}

/// Exchanges a refresh token for a new pair; the old one stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshRequest,
    responses((status = 200, body = sessions::TokenPair), (status = 401, body = crate::error::ErrorBody)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let presented = body.into_inner().refresh_token;
    if presented.len() > 200 {
        return Err(AppError::Unauthenticated);
    }
    let secret = state.jwt_secret.clone();
    let pair = state
        .db
        .run(move |conn| sessions::rotate(conn, &secret, &presented))
        .await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, &pair.access_token))
        .json(pair))
}

/// Ends the caller's session: its access and refresh tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (id, address, session) = (user.id, user.address.clone(), user.session_id);
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                sessions::end(conn, session)?;
                AuditEvent::new(Some(id), "logout", "user")
                    .object(id)
                    .from_address(&address)
                    .record(conn)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = user_rows::UserView), (status = 401, body = crate::error::ErrorBody)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let id = user.id;
    let view = state
        .db
        .run(move |conn| {
            let row = user_rows::find(conn, id)?;
            Ok(user_rows::view(conn, row)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Changes the caller's password; every other session ends, this one goes on.
#[utoipa::path(post, path = "/api/v1/me/password", request_body = PasswordChange,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    check_new_password(&user.username, &new_password).map_err(|e| AppError::Validation(vec![e]))?;
    let id = user.id;
    let current_hash = state
        .db
        .run(move |conn| Ok(user_rows::find(conn, id)?.password_hash))
        .await?;
    if !password::verify(current_hash, current_password).await? {
        return Err(AppError::Validation(vec![crate::error::FieldError::new(
            "current_password",
            "is not correct",
        )]));
    }
    let hash = password::hash(new_password).await?;
    let (address, session) = (user.address.clone(), user.session_id);
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(hash))
                    .execute(conn)?;
                sessions::end_others(conn, id, session)?;
                AuditEvent::new(Some(id), "password_changed", "user")
                    .object(id)
                    .from_address(&address)
                    .record(conn)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
