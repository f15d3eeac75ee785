//! Correcting the record of certificates: revoking one with a reason (the row stays, rule 5),
//! and reissuing one with a corrected name or birth date, which supersedes it.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::{reach_certificate, Viewing};
use crate::auth::current_user::Actor;
use crate::certificates::issuance::{self, NewCertificate};
use crate::certificates::Issuer;
use crate::db::audit::AuditEvent;
use crate::db::schema::{certificate_lineage, certificates, users};
use crate::db::training as training_rows;
use crate::db::views::certificates::{views, CertificateRow, CertificateView};
use crate::db::Db;
use crate::domain::labels;
use crate::domain::people::{parse_birth_date, FullName};
use crate::error::AppError;
use crate::privacy::DataKey;
use crate::service::as_actor;

/// Only an administrator or a coordinator of the issuer revokes or corrects.
fn require_issuer_coordinator(actor: &Actor, row: &CertificateRow) -> Result<(), AppError> {
    if actor.coordinates(row.issuer_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Revokes a valid certificate, keeping the row and the reason (rule 5).
pub fn revoke_certificate(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    reason: &str,
    today: NaiveDate,
) -> Result<(), AppError> {
    let row = reach_certificate(conn, actor, id)?;
    require_issuer_coordinator(actor, &row)?;
    // status changes only from valid: the row lock makes two revocations one
    let updated = diesel::update(
        certificates::table
            .find(id)
            .filter(certificates::status.eq("valid")),
    )
    .set((
        certificates::status.eq("revoked"),
        certificates::revocation_reason.eq(reason),
        certificates::revoked_at.eq(Utc::now()),
        // it counted as valid until yesterday: reports "as of" an earlier day still count it
        certificates::ended_on.eq(today),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(AppError::conflict(format!(
            "Giấy chứng nhận đang ở trạng thái “{}”; \
             chỉ thu hồi được giấy chứng nhận còn hiệu lực.",
            labels::certificate_status(&row.status)
        )));
    }
    crate::db::coverage_summary::holders_changed(conn, &[row.holder_id])?;
    AuditEvent::new(actor.id, "certificate_revoked", "certificate")
        .object(id)
        .subject(row.holder_id)
        .from_address(&actor.address)
        .details(json!({ "serial": row.serial, "reason": reason }))
        .record(conn)?;
    Ok(())
}

/// Corrects a valid certificate: a new one with the corrected claims supersedes it, and the
/// person's record takes the correction too. Returns the new certificate's id.
/// The corrected birth date is checked against the holder's CCCD, opened with `key`.
#[allow(clippy::too_many_arguments)]
pub fn reissue_certificate(
    conn: &mut PgConnection,
    key: &DataKey,
    issuer: &crate::certificates::Issuer,
    actor: &Actor,
    id: Uuid,
    full_name: Option<&FullName>,
    birth: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Uuid, AppError> {
    let row = reach_certificate(conn, actor, id)?;
    require_issuer_coordinator(actor, &row)?;
    let locked: String = certificates::table
        .find(id)
        .select(certificates::status)
        .for_update()
        .first(conn)?;
    if locked != "valid" {
        return Err(AppError::conflict(format!(
            "Giấy chứng nhận đang ở trạng thái “{}”; \
             chỉ cấp lại được giấy chứng nhận còn hiệu lực.",
            labels::certificate_status(&locked)
        )));
    }
    if row.valid_until <= today {
        return Err(AppError::conflict(
            "Giấy chứng nhận đã hết hạn; bản cấp lại sẽ không có giá trị.",
        ));
    }
    let cohort_id = row.cohort_id.ok_or_else(|| {
        AppError::conflict("Giấy chứng nhận này không gắn với lớp nào nên không cấp lại được.")
    })?;
    let cohort = training_rows::cohort(conn, cohort_id)?;
    let course = training_rows::course(conn, row.course_id)?;
    let lineage: Vec<Uuid> = certificate_lineage::table
        .filter(certificate_lineage::certificate_id.eq(id))
        .select(certificate_lineage::master_certificate_id)
        .load(conn)?;
    // the person's record takes the correction when the caller manages that person
    let (holder_org, sealed_national_id): (Uuid, Option<Vec<u8>>) = users::table
        .find(row.holder_id)
        .select((users::organization_id, users::national_id_cipher))
        .first(conn)?;
    if let (Some(d), Some(sealed)) = (birth, &sealed_national_id) {
        let nid = crate::db::users::open_national_id(key, row.holder_id, sealed)?;
        crate::domain::people::NationalId::parse(&nid, Some(d)).map_err(|_| {
            AppError::validation(
                "date_of_birth",
                "Ngày sinh không khớp với số CCCD của người này.",
            )
        })?;
    }
    // (never a retired person's: their record stays erased, the certificate alone takes it)
    let updates_record = actor.scope.covers_person(row.holder_id, holder_org)
        && !crate::db::retirement::is_retired(conn, row.holder_id)?;
    if let Some(name) = full_name.filter(|_| updates_record) {
        diesel::update(users::table.find(row.holder_id))
            .set((
                users::full_name.eq(name.as_str()),
                users::name_search.eq(name.search_key()),
                users::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
    }
    if let Some(d) = birth.filter(|_| updates_record) {
        diesel::update(users::table.find(row.holder_id))
            .set(users::date_of_birth.eq(d))
            .execute(conn)?;
    }
    diesel::update(certificates::table.find(id))
        .set((
            certificates::status.eq("superseded"),
            certificates::ended_on.eq(today),
        ))
        .execute(conn)?;
    let new_ids = issuance::issue(
        conn,
        issuer,
        &cohort,
        &course,
        &lineage,
        &[NewCertificate {
            holder_id: row.holder_id,
            enrollment_id: row.enrollment_id,
            holder_name: full_name.as_ref().map(|n| n.as_str().to_string()),
            holder_birth_date: birth.map(Some),
            supersedes: Some((row.id, row.serial.clone())),
            valid_until: Some(row.valid_until),
            issued_on: today.max(cohort.ends_on),
        }],
    )?;
    AuditEvent::new(actor.id, "certificate_reissued", "certificate")
        .object(id)
        .subject(row.holder_id)
        .from_address(&actor.address)
        .details(json!({ "serial": row.serial, "new_certificate_id": new_ids.first() }))
        .record(conn)?;
    new_ids
        .first()
        .copied()
        .ok_or_else(|| AppError::internal("nothing reissued"))
}

/// Revokes a valid certificate with a reason (administrators, coordinators of the issuer).
pub async fn revoke(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    reason: &str,
    viewing: Viewing,
) -> Result<CertificateView, AppError> {
    use crate::domain::text::{limits, TextRule};
    let reason = TextRule::line("reason", limits::REVOCATION_REASON)
        .multiline()
        .check(reason)
        .map(|r| crate::domain::organizations::clean_text(&r))
        .map_err(|e| AppError::Validation(vec![e]))?;
    as_actor(db, actor, "revoke_certificate", move |conn, actor| {
        conn.transaction(|conn| {
            revoke_certificate(conn, actor, id, &reason, viewing.today)?;
            views(conn, &[id], viewing.today, &viewing.public_url)?
                .pop()
                .ok_or(AppError::NotFound)
        })
    })
    .await
}

/// A correction: a new certificate with the corrected name or birth date supersedes the old one;
/// both stay verifiable, and the person's record takes the correction too.
pub async fn reissue(
    db: &Db,
    actor: &Actor,
    issuer: Issuer,
    id: Uuid,
    full_name: Option<&str>,
    date_of_birth: Option<&str>,
    viewing: Viewing,
) -> Result<CertificateView, AppError> {
    let full_name = match full_name {
        Some(n) => Some(
            FullName::parse(n)
                .and_then(|name| {
                    crate::domain::text::check_drawable(
                        "full_name",
                        name.as_str(),
                        crate::certificates::pdf::can_draw,
                    )
                    .map(|()| name)
                })
                .map_err(|e| AppError::Validation(vec![e]))?,
        ),
        None => None,
    };
    let today = viewing.today;
    let birth = match date_of_birth {
        Some(d) => Some(parse_birth_date(d, today).map_err(|e| AppError::Validation(vec![e]))?),
        None => None,
    };
    let key = db.data_key()?;
    as_actor(db, actor, "reissue_certificate", move |conn, actor| {
        let new_id = conn.transaction(|conn| {
            reissue_certificate(
                conn,
                &key,
                &issuer,
                actor,
                id,
                full_name.as_ref(),
                birth,
                today,
            )
        })?;
        crate::metrics::certificates_issued(1);
        issuance::store_digests(conn, &issuer, &[new_id]);
        views(conn, &[new_id], today, &viewing.public_url)?
            .pop()
            .ok_or(AppError::NotFound)
    })
    .await
}
