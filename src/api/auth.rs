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
    #[schema(max_length = 64)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    #[schema(max_length = 200)]
    pub refresh_token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    pub current_password: String,
    #[schema(min_length = 10, max_length = 128)]
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

/// Starts a password check under the login throttle ([`throttle::begin_attempt`]): 429 when the
/// account or address is locked; while attempts being checked fill the limit, waits its turn
/// (without holding a database connection, so the attempts ahead can finish).
async fn begin_attempt(state: &AppState, username: &str, address: &str) -> Result<i64, AppError> {
    let started = std::time::Instant::now();
    loop {
        let (u, a) = (username.to_string(), address.to_string());
        let outcome = state
            .db
            .run(move |conn| Ok(throttle::begin_attempt(conn, &u, &a)?))
            .await?;
        match outcome {
            Ok(attempt) => return Ok(attempt),
            Err(throttle::Wait::Locked(retry_after_secs)) => {
                return Err(AppError::RateLimited { retry_after_secs })
            }
            Err(throttle::Wait::Busy) if started.elapsed() >= throttle::BUSY_WAIT => {
                return Err(AppError::RateLimited {
                    retry_after_secs: 1,
                })
            }
            Err(throttle::Wait::Busy) => actix_web::rt::time::sleep(throttle::BUSY_POLL).await,
        }
    }
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
    {
        use crate::domain::text::{check_plain, limits};
        let errors: Vec<_> = [
            check_plain("username", &username, limits::USERNAME),
            check_plain("password", &given, limits::PASSWORD),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
    }
    let username = username.trim().to_lowercase();
    if username.is_empty() {
        return Err(AppError::InvalidCredentials);
    }
    let address = client_address(&req);

    let attempt = begin_attempt(&state, &username, &address).await?;
    let u = username.clone();
    let account = state
        .db
        .run(move |conn| Ok(user_rows::find_by_username(conn, &u)?))
        .await?;

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
                throttle::attempt_failed(conn, attempt)?;
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
    if presented.len() > crate::domain::text::limits::TOKEN || presented.contains('\0') {
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
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
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
    check_new_password(&user.username, &new_password).map_err(|e| {
        // the body names it `new_password`
        AppError::Validation(vec![crate::error::FieldError::new(
            "new_password",
            e.message,
        )])
    })?;
    crate::domain::text::check_plain(
        "current_password",
        &current_password,
        crate::domain::text::limits::PASSWORD,
    )
    .map_err(|e| AppError::Validation(vec![e]))?;
    // guessing the current password is guessing the account's password: the login throttle
    let attempt = begin_attempt(&state, &user.username, &user.address).await?;
    let id = user.id;
    let current_hash = state
        .db
        .run(move |conn| Ok(user_rows::find(conn, id)?.password_hash))
        .await?;
    let right = password::verify(current_hash, current_password).await?;
    let username = user.username.clone();
    state
        .db
        .run(move |conn| {
            if right {
                throttle::forget_attempt(conn, attempt, &username)?;
            } else {
                throttle::attempt_failed(conn, attempt)?;
            }
            Ok(())
        })
        .await?;
    if !right {
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
