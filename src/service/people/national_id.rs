//! The CCCD at rest: revealing one in full (an audited read), sealing the numbers left in clear
//! by an older release, and re-sealing every number under a new data key.

use std::path::Path;

use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::visible_user;
use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::users as rows;
use crate::db::Db;
use crate::domain::access::manages_people;
use crate::domain::privacy::NATIONAL_ID_REVEALED;
use crate::error::AppError;
use crate::privacy::{DataKey, KeyRotation};
use crate::service::refuse;

/// A person's CCCD in full, as a reveal answers it (`null`: they have none).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevealedNationalId {
    #[schema(example = "001185012345")]
    pub national_id: Option<String>,
}

/// Shows a person's full CCCD to staff (coordinator, HR, administrator) who have that person in
/// scope, and records the read (`national_id_revealed`, about that person) in the same
/// transaction: no number leaves without its event. Other roles get 403, a person outside the
/// scope 404. A person without a CCCD answers `null`, and the look is recorded all the same.
pub async fn reveal_national_id(
    db: &Db,
    actor: &Actor,
    id: Uuid,
) -> Result<RevealedNationalId, AppError> {
    if !manages_people(&actor.roles) {
        return Err(refuse(db, actor, "reveal_national_id").await);
    }
    let key = db.data_key()?;
    let actor = actor.clone();
    db.run(move |conn| {
        conn.transaction(|conn| {
            let person = visible_user(conn, &actor, id)?;
            let national_id = match &person.national_id_cipher {
                Some(sealed) => Some(rows::open_national_id(&key, person.id, sealed)?),
                None => None,
            };
            AuditEvent::new(actor.id, NATIONAL_ID_REVEALED, "user")
                .object(person.id)
                .from_address(&actor.address)
                .record(conn)?;
            Ok(RevealedNationalId { national_id })
        })
    })
    .await
}

/// Start-up step after the migrations: seals every CCCD still stored in clear (from before
/// encryption at rest) under `key`, empties the plain column and forbids it from then on, all
/// in one transaction. Refuses a key other than the one the stored numbers are sealed under (a
/// lost or swapped key file), before anything is written. Returns how many numbers it sealed.
pub fn seal_plain_national_ids(conn: &mut PgConnection, key: &DataKey) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        check_sealed_under(conn, key)?;
        // once the CHECK is there nothing is left in clear: no lock, no scan
        if rows::plain_national_ids_forbidden(conn)? {
            return Ok(0);
        }
        rows::lock_for_sealing(conn)?;
        let plain = rows::plain_national_ids(conn)?;
        for (id, national_id) in &plain {
            let sealed = (
                key.seal_national_id(national_id),
                key.national_id_index(national_id),
            );
            rows::store_national_id(conn, *id, Some(sealed))?;
        }
        rows::forbid_plain_national_ids(conn)?;
        Ok(plain.len())
    })
}

/// Refuses a key other than the one the stored numbers are sealed under.
fn check_sealed_under(conn: &mut PgConnection, key: &DataKey) -> Result<(), AppError> {
    let Some(sealed) = rows::any_sealed_national_id(conn)? else {
        return Ok(());
    };
    match DataKey::sealed_by(&sealed) {
        Some(id) if id == key.id() => Ok(()),
        found => Err(AppError::internal(format!(
            "the stored CCCDs are sealed under data key {}, but the data key file holds key {}: \
             restore the data key file from the backup",
            found.map_or_else(|| "(unreadable)".to_string(), |id| id.to_string()),
            key.id()
        ))),
    }
}

/// `cascade rotate-data-key`: a new data key replaces the one in `key_file`, and every CCCD is
/// re-sealed and its blind index recomputed under it, in one transaction; see
/// [`KeyRotation`] for the order of the file steps, which makes a crash at any point lose
/// nothing (running the command again finishes the rotation). Run it with the service stopped:
/// a running service keeps sealing with the key it loaded. Returns how many numbers it re-sealed.
pub fn rotate_data_key(conn: &mut PgConnection, key_file: &Path) -> Result<usize, String> {
    let rotation = KeyRotation::begin(key_file)?;
    let resealed = conn
        .transaction(|conn| -> Result<usize, AppError> {
            rows::lock_for_sealing(conn)?;
            let mut count = 0;
            for (id, national_id) in rows::plain_national_ids(conn)? {
                let sealed = (
                    rotation.to.seal_national_id(&national_id),
                    rotation.to.national_id_index(&national_id),
                );
                rows::store_national_id(conn, id, Some(sealed))?;
                count += 1;
            }
            for (id, sealed) in rows::sealed_national_ids(conn)? {
                let key = rotation.key_for(&sealed).ok_or_else(|| {
                    AppError::internal(format!(
                        "the CCCD of user {id} is sealed under a data key that is neither the \
                         old nor the new one"
                    ))
                })?;
                let national_id = rows::open_national_id(key, id, &sealed)?;
                let resealed = (
                    rotation.to.seal_national_id(&national_id),
                    rotation.to.national_id_index(&national_id),
                );
                rows::store_national_id(conn, id, Some(resealed))?;
                count += 1;
            }
            rows::forbid_plain_national_ids(conn)?;
            Ok(count)
        })
        .map_err(|e| {
            format!(
                "re-sealing the CCCDs failed and was rolled back ({e}); {} holds the old key \
                 until the rotation finishes: run `cascade rotate-data-key` again",
                crate::privacy::previous_key_path(key_file).display()
            )
        })?;
    rotation.finish()?;
    Ok(resealed)
}
