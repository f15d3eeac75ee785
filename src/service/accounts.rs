//! Signing in and out: logins under the throttle, refresh-token rotation, logout, changing
//! one's own password, who the caller is.

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::auth::sessions::{self, TokenPair};
use crate::auth::{password, throttle};
use crate::db::audit::AuditEvent;
use crate::db::schema::users;
use crate::db::users as user_rows;
use crate::db::Db;
use crate::domain::people::check_new_password;
use crate::domain::text::{check_plain, limits};
use crate::error::{AppError, FieldError};

/// Who is signed in, as a use case needs them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: Uuid,
    pub username: String,
    pub session_id: Uuid,
    pub address: String,
}

/// Starts a password check under the login throttle ([`throttle::begin_attempt`]): 429 when the
/// account or address is locked; while attempts being checked fill the limit, waits its turn
/// (without holding a database connection, so the attempts ahead can finish).
async fn begin_attempt(db: &Db, username: &str, address: &str) -> Result<i64, AppError> {
    let started = std::time::Instant::now();
    loop {
        let (u, a) = (username.to_string(), address.to_string());
        let outcome = db
            .run(move |conn| Ok(throttle::begin_attempt(conn, &u, &a)?))
            .await?;
        match outcome {
            Ok(attempt) => return Ok(attempt),
            Err(throttle::Wait::Locked(retry_after_secs)) => {
                crate::metrics::throttled("login");
                return Err(AppError::RateLimited { retry_after_secs });
            }
            Err(throttle::Wait::Busy) if started.elapsed() >= throttle::BUSY_WAIT => {
                crate::metrics::throttled("login");
                return Err(AppError::RateLimited {
                    retry_after_secs: 1,
                });
            }
            Err(throttle::Wait::Busy) => actix_web::rt::time::sleep(throttle::BUSY_POLL).await,
        }
    }
}

/// Signs in: a new session and its token pair. The same 401 for an unknown user and a wrong
/// password, after the same work; failures count toward the throttle of the account and the
/// address.
pub async fn sign_in(
    db: &Db,
    jwt_secret: &[u8],
    username: &str,
    given: String,
    address: &str,
) -> Result<TokenPair, AppError> {
    let errors: Vec<FieldError> = [
        check_plain("username", username, limits::USERNAME),
        check_plain("password", &given, limits::PASSWORD),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let username = username.trim().to_lowercase();
    if username.is_empty() {
        crate::metrics::login_failed();
        return Err(AppError::InvalidCredentials);
    }
    let attempt = begin_attempt(db, &username, address).await?;
    let u = username.clone();
    let account = db
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

    let (secret, address) = (jwt_secret.to_vec(), address.to_string());
    db.run(move |conn| {
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
    .ok_or_else(|| {
        crate::metrics::login_failed();
        AppError::InvalidCredentials
    })
}

/// Exchanges a refresh token for a new pair; the old one stops working, and presenting it again
/// ends the whole session.
pub async fn renew(db: &Db, jwt_secret: &[u8], presented: String) -> Result<TokenPair, AppError> {
    if presented.len() > limits::TOKEN || presented.contains('\0') {
        return Err(AppError::Unauthenticated);
    }
    let secret = jwt_secret.to_vec();
    db.run(move |conn| sessions::rotate(conn, &secret, &presented))
        .await
}

/// Ends the caller's session: its access and refresh tokens stop working.
pub async fn sign_out(db: &Db, me: &SignedIn) -> Result<(), AppError> {
    let (id, address, session) = (me.id, me.address.clone(), me.session_id);
    db.run(move |conn| {
        conn.transaction(|conn| {
            sessions::end(conn, session)?;
            AuditEvent::new(Some(id), "logout", "user")
                .object(id)
                .from_address(&address)
                .record(conn)?;
            Ok(())
        })
    })
    .await
}

/// Changes the caller's own password, given the current one (its guesses count as failed
/// logins); every other session ends, this one goes on.
pub async fn change_own_password(
    db: &Db,
    me: &SignedIn,
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    check_new_password(&me.username, &new_password).map_err(|e| {
        // the request names it `new_password`
        AppError::Validation(vec![FieldError::new("new_password", e.message)])
    })?;
    check_plain("current_password", &current_password, limits::PASSWORD)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let attempt = begin_attempt(db, &me.username, &me.address).await?;
    let id = me.id;
    let current_hash = db
        .run(move |conn| Ok(user_rows::find(conn, id)?.password_hash))
        .await?;
    let right = password::verify(current_hash, current_password).await?;
    let username = me.username.clone();
    db.run(move |conn| {
        if right {
            throttle::forget_attempt(conn, attempt, &username)?;
        } else {
            throttle::attempt_failed(conn, attempt)?;
        }
        Ok(())
    })
    .await?;
    if !right {
        return Err(AppError::Validation(vec![FieldError::new(
            "current_password",
            "Mật khẩu hiện tại không đúng.",
        )]));
    }
    let hash = password::hash(new_password).await?;
    let (address, session) = (me.address.clone(), me.session_id);
    db.run(move |conn| {
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
    .await
}
