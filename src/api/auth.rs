//! `/auth/*` and `/me`: logging in and out, refreshing, who am I, changing one's password.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::current_user::{client_address, CurrentUser, SESSION_COOKIE};
use crate::auth::{sessions, tokens};
use crate::db::users as user_rows;
use crate::error::AppError;
use crate::service::accounts::{self, SignedIn};
use crate::startup::AppState;

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

fn signed_in(user: &CurrentUser) -> SignedIn {
    SignedIn {
        id: user.id,
        username: user.username.clone(),
        session_id: user.session_id,
        address: user.address.clone(),
    }
}

/// Signs in. The same 401 for an unknown user and a wrong password, after the same work.
#[utoipa::path(post, operation_id = "auth_login", tag = "auth", path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = sessions::TokenPair), (status = 401, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
#[post("/auth/login")]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest { username, password } = body.into_inner();
    let address = client_address(&req);
    let pair =
        accounts::sign_in(&state.db, &state.jwt_secret, &username, password, &address).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, &pair.access_token))
        .json(pair))
}

/// Exchanges a refresh token for a new pair; the old one stops working.
#[utoipa::path(post, operation_id = "auth_refresh", tag = "auth", path = "/api/v1/auth/refresh", request_body = RefreshRequest,
    responses((status = 200, body = sessions::TokenPair), (status = 401, body = crate::error::ErrorBody)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let presented = body.into_inner().refresh_token;
    let pair = accounts::renew(&state.db, &state.jwt_secret, presented).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, &pair.access_token))
        .json(pair))
}

/// Ends the caller's session: its access and refresh tokens stop working.
#[utoipa::path(post, operation_id = "auth_logout", tag = "auth", path = "/api/v1/auth/logout", responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    accounts::sign_out(&state.db, &signed_in(&user)).await?;
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
}

#[utoipa::path(get, operation_id = "auth_me", tag = "auth", path = "/api/v1/me", responses((status = 200, body = user_rows::UserView), (status = 401, body = crate::error::ErrorBody)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    // authenticating the request read the account already, in the same round trip; its CCCD
    // shows masked, as everywhere
    let key = state.db.data_key()?;
    let profile = user.profile.clone().with_masked_national_id(&key)?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Changes the caller's password; every other session ends, this one goes on.
#[utoipa::path(post, operation_id = "auth_change_password", tag = "auth", path = "/api/v1/me/password", request_body = PasswordChange,
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
    accounts::change_own_password(&state.db, &signed_in(&user), current_password, new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
