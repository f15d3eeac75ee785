//! Sessions: a login starts a refresh-token family; each refresh rotates the token; reusing a
//! rotated token revokes the family (it was stolen or replayed).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::tokens::{self, ACCESS_TTL_SECS, REFRESH_TTL_DAYS};
use crate::db::schema::{login_sessions, refresh_tokens, users};
use crate::error::AppError;

/// Is this login session still open for this user?
pub fn is_open(conn: &mut PgConnection, session: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let n: i64 = login_sessions::table
        .filter(login_sessions::id.eq(session))
        .filter(login_sessions::user_id.eq(user_id))
        .filter(login_sessions::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

/// Ends one session: its access tokens and its refresh tokens stop working.
pub fn end(conn: &mut PgConnection, session: Uuid) -> QueryResult<()> {
    let now = Utc::now();
    diesel::update(
        login_sessions::table
            .find(session)
            .filter(login_sessions::revoked_at.is_null()),
    )
    .set(login_sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(session)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends every session of a user but `keep`.
pub fn end_others(conn: &mut PgConnection, user_id: Uuid, keep: Uuid) -> QueryResult<()> {
    let now = Utc::now();
    diesel::update(
        login_sessions::table
            .filter(login_sessions::user_id.eq(user_id))
            .filter(login_sessions::id.ne(keep))
            .filter(login_sessions::revoked_at.is_null()),
    )
    .set(login_sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::family_id.ne(keep))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// id, user, family, token version, expiry, used, revoked.
type StoredRefresh = (
    Uuid,
    Uuid,
    Uuid,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
}

/// Issues an access token and a refresh token in `family` (a new family for a login).
pub fn issue(
    conn: &mut PgConnection,
    secret: &[u8],
    user_id: Uuid,
    token_version: i32,
    family: Uuid,
) -> Result<TokenPair, AppError> {
    diesel::insert_into(login_sessions::table)
        .values((
            login_sessions::id.eq(family),
            login_sessions::user_id.eq(user_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let (refresh, digest) = tokens::new_refresh_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(digest),
            refresh_tokens::token_version.eq(token_version),
            refresh_tokens::expires_at.eq(Utc::now() + Duration::days(REFRESH_TTL_DAYS)),
        ))
        .execute(conn)?;
    Ok(TokenPair {
        access_token: tokens::issue_access_token(secret, user_id, token_version, family)?,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        refresh_token: refresh,
    })
}

/// Exchanges a refresh token for a new pair. The old token stops working; presenting it again
/// revokes its whole family.
pub fn rotate(
    conn: &mut PgConnection,
    secret: &[u8],
    presented: &str,
) -> Result<TokenPair, AppError> {
    let digest = tokens::refresh_token_digest(presented);
    conn.transaction(|conn| {
        let found: Option<StoredRefresh> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&digest))
            .select((
                refresh_tokens::id,
                refresh_tokens::user_id,
                refresh_tokens::family_id,
                refresh_tokens::token_version,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                refresh_tokens::revoked_at,
            ))
            .for_update()
            .first(conn)
            .optional()?;
        let Some((id, user_id, family, version, expires_at, used_at, revoked_at)) = found else {
            return Err(AppError::Unauthenticated);
        };
        if used_at.is_some() {
            // a rotated token came back: someone else holds the family, so the whole session
            // ends, its access tokens with its refresh tokens
            end(conn, family)?;
            crate::db::audit::AuditEvent::new(Some(user_id), "refresh_token_reused", "user")
                .object(user_id)
                .record(conn)?;
            return Ok(Err(AppError::Unauthenticated));
        }
        if revoked_at.is_some() || expires_at <= Utc::now() || !is_open(conn, family, user_id)? {
            return Err(AppError::Unauthenticated);
        }
        let (current_version, active): (i32, bool) = users::table
            .find(user_id)
            .select((users::token_version, users::active))
            .first(conn)?;
        if !active || current_version != version {
            return Err(AppError::Unauthenticated);
        }
        diesel::update(refresh_tokens::table.find(id))
            .set(refresh_tokens::used_at.eq(Utc::now()))
            .execute(conn)?;
        Ok(Ok(issue(conn, secret, user_id, version, family)?))
    })?
}
