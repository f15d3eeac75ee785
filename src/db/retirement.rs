//! Retired people: their row locked for the erasure, the erasure itself, and the keyed hashes of
//! the usernames nobody may take again.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{login_sessions, retired_usernames, users};
use super::users::UserRow;

/// The person's row, locked until the transaction ends, and when they were retired (if they
/// were); `None` when no one has this id.
pub fn lock_person(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Option<(UserRow, Option<DateTime<Utc>>)>> {
    users::table
        .find(id)
        .select((UserRow::as_select(), users::retired_at))
        .for_update()
        .first(conn)
        .optional()
}

/// Has this person been retired?
pub fn is_retired(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    let retired_at: Option<Option<DateTime<Utc>>> = users::table
        .find(id)
        .select(users::retired_at)
        .first(conn)
        .optional()?;
    Ok(matches!(retired_at, Some(Some(_))))
}

/// Does anyone (living or retired) have this username now?
pub fn username_in_use(conn: &mut PgConnection, username: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ))
    .get_result(conn)
}

/// What a retired person's row keeps in place of their personal fields.
pub struct Erasure<'a> {
    pub tombstone_username: &'a str,
    pub full_name: &'a str,
    pub name_search: &'a str,
    pub at: DateTime<Utc>,
}

/// Erases the personal fields of a person's row and blocks their login for good: username and
/// name replaced, CCCD, date of birth, e-mail and password hash gone, inactive, retired, and
/// every access token of theirs stale (the token version moves on).
pub fn erase_person(conn: &mut PgConnection, id: Uuid, erasure: &Erasure<'_>) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::username.eq(erasure.tombstone_username),
            users::full_name.eq(erasure.full_name),
            users::name_search.eq(erasure.name_search),
            users::date_of_birth.eq(None::<chrono::NaiveDate>),
            users::national_id.eq(None::<String>),
            users::national_id_cipher.eq(None::<Vec<u8>>),
            users::national_id_index.eq(None::<Vec<u8>>),
            users::email.eq(None::<String>),
            users::password_hash.eq(None::<String>),
            users::active.eq(false),
            users::retired_at.eq(Some(erasure.at)),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(erasure.at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends every open login session of a person (the pages' and the API's alike), with their
/// refresh tokens: the very next request with any of their tokens fails.
pub fn end_login_sessions(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    use super::schema::refresh_tokens;
    diesel::update(
        login_sessions::table
            .filter(login_sessions::user_id.eq(id))
            .filter(login_sessions::revoked_at.is_null()),
    )
    .set(login_sessions::revoked_at.eq(at))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Records a retired username by its keyed hash (once; a second retirement of the same name
/// keeps the first date).
pub fn remember_username(
    conn: &mut PgConnection,
    username_index: &[u8],
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(retired_usernames::table)
        .values((
            retired_usernames::username_index.eq(username_index),
            retired_usernames::retired_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// Did a retired person once have the username of this keyed hash?
pub fn username_was_retired(conn: &mut PgConnection, username_index: &[u8]) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        retired_usernames::table.filter(retired_usernames::username_index.eq(username_index)),
    ))
    .get_result(conn)
}

/// Takes a retired person's username out of the audit trail: from the details of every event
/// about them (`user_created` records it), and from failed logins that typed it. The events
/// themselves stay: who did what, and when, is the programme's record.
pub fn scrub_username_from_audit(
    conn: &mut PgConnection,
    id: Uuid,
    username: &str,
) -> QueryResult<usize> {
    use diesel::sql_types::{Text, Uuid as SqlUuid};
    diesel::sql_query(
        "UPDATE audit_events SET details = details - 'username' \
         WHERE details ? 'username' \
           AND (subject_id = $1 \
                OR (action = 'login_failed' AND lower(details->>'username') = lower($2)))",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(username)
    .execute(conn)
}
