//! Sessions: a login starts a refresh-token family; each refresh rotates the token; reusing a
//! rotated token revokes the family (it was stolen or replayed).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::tokens::{self, ACCESS_TTL_SECS, REFRESH_TTL_DAYS};
use crate::db::schema::{refresh_tokens, users};
use crate::error::AppError;

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
        access_token: tokens::issue_access_token(secret, user_id, token_version)?,
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
            // a rotated token came back: someone else holds the family
            diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family)))
                .filter(refresh_tokens::revoked_at.is_null())
                .set(refresh_tokens::revoked_at.eq(Utc::now()))
                .execute(conn)?;
            crate::db::audit::AuditEvent::new(Some(user_id), "refresh_token_reused", "user")
                .object(user_id)
                .record(conn)?;
            return Ok(Err(AppError::Unauthenticated));
        }
        if revoked_at.is_some() || expires_at <= Utc::now() {
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
