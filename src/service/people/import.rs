//! Importing people from a CSV file (the API, the pages and `cascade import-users`): every line
//! checked first, against the rules and the grant rule, then all written or none.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    account_rule, denial_line, insert_person, national_id_probe_wait, national_id_taken, today,
    write_person, NATIONAL_ID_TAKEN, USERNAME_TAKEN,
};
use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::organizations as orgs;
use crate::db::users::{self as rows, UserRow};
use crate::db::Db;
use crate::domain::access::{manages_people, AccountChange};
use crate::domain::people::Role;
use crate::domain::user_import::{parse_import, ImportError, ImportRow};
use crate::error::AppError;
use crate::privacy::DataKey;
use crate::service::refuse;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<ImportError>,
}

/// Imports people from a CSV file: every line is checked first, and a file with any error
/// changes nothing.
pub async fn import_people(
    db: &Db,
    actor: &Actor,
    bytes: Vec<u8>,
) -> Result<ImportReport, AppError> {
    if !manages_people(&actor.roles) {
        return Err(refuse(db, actor, "import_users").await);
    }
    let actor = actor.clone();
    let key = db.data_key()?;
    db.run(move |conn| import_file(conn, &key, &actor, &bytes))
        .await
}

/// The import itself, shared with `cascade import-users`: parse and check every line, then
/// write all of them in one transaction, or nothing. The CCCDs are sealed under `key`.
pub fn import_file(
    conn: &mut PgConnection,
    key: &DataKey,
    actor: &Actor,
    bytes: &[u8],
) -> Result<ImportReport, AppError> {
    let (parsed, errors) = parse_import(bytes, today(), crate::certificates::pdf::can_draw);
    if parsed.iter().any(|r| r.person.national_id.is_some()) {
        national_id_probe_wait(conn, actor)?;
    }
    conn.transaction(|conn| apply_import(conn, key, actor, &parsed, errors))
}

/// Checks every row against the database, then writes them all — or, if any row fails, rolls
/// back and reports every failure with its line number.
fn apply_import(
    conn: &mut PgConnection,
    key: &DataKey,
    actor: &Actor,
    parsed: &[ImportRow],
    mut errors: Vec<ImportError>,
) -> Result<ImportReport, AppError> {
    // each row with its organisation and, for a person already known, their row and roles
    type Planned<'a> = (&'a ImportRow, Uuid, Option<(UserRow, Vec<Role>)>);
    let mut plan: Vec<Planned> = Vec::new();
    for row in parsed {
        let line = row.line;
        let org = orgs::find_by_code(conn, &row.organization_code)?;
        let Some(org) = org.filter(|o| actor.scope.covers_organization(o.id)) else {
            errors.push(ImportError::in_column(
                line,
                "organization_code",
                &format!(
                    "Không có đơn vị mã “{}” trong phạm vi của bạn.",
                    row.organization_code
                ),
            ));
            continue;
        };
        let existing = rows::find_by_username(conn, row.person.username.as_str())?;
        if let Some(message) = crate::service::retirement::import_refusal(
            conn,
            key,
            row.person.username.as_str(),
            existing.as_ref().map(|e| e.id),
        )? {
            errors.push(ImportError::in_column(line, "username", message));
            continue;
        }
        let mut roles_before = None;
        if let Some(existing) = &existing {
            if !actor
                .scope
                .covers_person(existing.id, existing.organization_id)
            {
                errors.push(ImportError::in_column(line, "username", USERNAME_TAKEN));
                continue;
            }
            let held = rows::roles_of(conn, &[existing.id])?
                .remove(&existing.id)
                .unwrap_or_default();
            let change = AccountChange {
                new_roles: Some(row.person.roles.as_slice()).filter(|r| *r != held.as_slice()),
                profile: true,
                ..Default::default()
            };
            if let Err(denial) = account_rule(actor, Some((existing.id, &held)), &change) {
                errors.push(denial_line(line, denial));
                continue;
            }
            roles_before = Some(held);
        } else {
            let change = AccountChange {
                new_roles: Some(&row.person.roles),
                ..Default::default()
            };
            if let Err(denial) = account_rule(actor, None, &change) {
                errors.push(denial_line(line, denial));
                continue;
            }
        }
        if let Some(nid) = &row.person.national_id {
            let except = existing.as_ref().map(|e| e.id);
            if national_id_taken(conn, key, actor, nid.as_str(), except)? {
                errors.push(ImportError::in_column(
                    line,
                    "national_id",
                    NATIONAL_ID_TAKEN,
                ));
                continue;
            }
        }
        plan.push((
            row,
            org.id,
            existing.map(|e| (e, roles_before.unwrap_or_default())),
        ));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Ok(ImportReport {
            created: 0,
            updated: 0,
            errors,
        });
    }
    let (mut created, mut updated) = (0, 0);
    for (row, org_id, existing) in plan {
        let person = &row.person;
        match existing {
            None => {
                insert_person(conn, key, person, org_id, None)?;
                created += 1;
            }
            Some((existing, roles_before)) => {
                write_person(conn, key, existing.id, person, org_id)?;
                if person.roles != roles_before {
                    // other rights: the person signs in again, as after a PATCH
                    rows::set_roles(conn, existing.id, &person.roles)?;
                    rows::end_sessions(conn, existing.id)?;
                    AuditEvent::new(actor.id, "user_updated", "user")
                        .object(existing.id)
                        .from_address(&actor.address)
                        .details(json!({
                            "fields": ["roles"],
                            "via": "import",
                            "roles": { "from": roles_before, "to": person.roles },
                        }))
                        .record(conn)?;
                }
                updated += 1;
            }
        }
    }
    AuditEvent::new(actor.id, "users_imported", "user")
        .from_address(&actor.address)
        .details(json!({ "created": created, "updated": updated }))
        .record(conn)?;
    Ok(ImportReport {
        created,
        updated,
        errors: Vec::new(),
    })
}
