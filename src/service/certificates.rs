//! Certificates: finding them in the caller's scope, downloading one or a cohort's ZIP,
//! revoking (rule 5: the row stays, with its reason), correcting by a reissue that supersedes,
//! and what a master trainer's certificate reaches downstream.

use std::io::Write;

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::audited;
use super::cohorts::{reach_cohort, Access};
use crate::auth::current_user::Actor;
use crate::certificates::issuance::{self, NewCertificate};
use crate::certificates::Issuer;
use crate::db::audit::AuditEvent;
use crate::db::schema::{certificate_lineage, certificates, cohort_instructors, cohorts, users};
use crate::db::training as training_rows;
use crate::db::views::certificates::{
    views, CertificateList, CertificateRow, CertificateView, CohortBrief, Downstream,
    DownstreamCertificate,
};
use crate::db::Db;
use crate::domain::access::manages_people;
use crate::domain::certificates::{public_status, serial_file_name};
use crate::domain::people::{parse_birth_date, FullName};
use crate::error::AppError;

/// Where certificates are verified and what day it is: what building their views needs.
#[derive(Debug, Clone)]
pub struct Viewing {
    pub public_url: String,
    pub today: NaiveDate,
}

/// May this caller see the certificate? Its holder, or staff whose scope covers the holder's
/// organisation or the issuer.
fn visible(conn: &mut PgConnection, actor: &Actor, row: &CertificateRow) -> Result<bool, AppError> {
    if actor.id == Some(row.holder_id) {
        return Ok(true);
    }
    if actor.scope.covers_organization(row.issuer_id) {
        return Ok(true);
    }
    let holder_org: Uuid = users::table
        .find(row.holder_id)
        .select(users::organization_id)
        .first(conn)?;
    Ok(actor.scope.covers_person(row.holder_id, holder_org))
}

fn reach_certificate(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<CertificateRow, AppError> {
    let row: CertificateRow = certificates::table
        .find(id)
        .select(CertificateRow::as_select())
        .first(conn)?;
    if visible(conn, actor, &row)? {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// Only an administrator or a coordinator of the issuer revokes or corrects.
fn require_issuer_coordinator(actor: &Actor, row: &CertificateRow) -> Result<(), AppError> {
    if actor.coordinates(row.issuer_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// What a search for certificates asks.
#[derive(Debug, Default, Clone)]
pub struct CertificateSearch {
    /// Words of the holder's name (with or without diacritics) or part of the serial.
    pub q: Option<String>,
    pub user_id: Option<Uuid>,
    pub cohort_id: Option<Uuid>,
    pub status: Option<String>,
    pub issued_from: Option<NaiveDate>,
    pub issued_to: Option<NaiveDate>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl CertificateSearch {
    /// Refuses what cannot be searched for (400).
    fn check(&self) -> Result<(), AppError> {
        crate::domain::training::check_dates(&[
            ("issued_from", self.issued_from),
            ("issued_to", self.issued_to),
        ])?;
        if let Some(s) = &self.status {
            if !matches!(s.as_str(), "valid" | "expired" | "revoked" | "superseded") {
                return Err(AppError::validation(
                    "status",
                    "must be valid, expired, revoked or superseded",
                ));
            }
        }
        if let Some(q) = &self.q {
            crate::domain::text::check_plain("q", q, crate::domain::text::limits::SEARCH)
                .map_err(|e| AppError::Validation(vec![e]))?;
        }
        Ok(())
    }
}

/// The certificates an actor may see that match a search (staff: issued by or held in their
/// scope; everyone: their own).
fn matching<'a>(
    actor: &Actor,
    q: &CertificateSearch,
    today: NaiveDate,
) -> certificates::BoxedQuery<'a, diesel::pg::Pg> {
    let me = actor.id.unwrap_or_default();
    let mut query = certificates::table.into_boxed();
    query = match actor.scope.organization_filter() {
        None => query,
        Some(ids) if ids.is_empty() => query.filter(certificates::holder_id.eq(me)),
        Some(ids) => query.filter(
            certificates::issuer_id
                .eq_any(ids.clone())
                .or(certificates::holder_id.eq_any(
                    users::table
                        .filter(users::organization_id.eq_any(ids))
                        .select(users::id),
                ))
                .or(certificates::holder_id.eq(me)),
        ),
    };
    if let Some(u) = q.user_id {
        query = query.filter(certificates::holder_id.eq(u));
    }
    if let Some(c) = q.cohort_id {
        query = query.filter(certificates::cohort_id.eq(c));
    }
    match q.status.as_deref() {
        Some("valid") => {
            query = query
                .filter(certificates::status.eq("valid"))
                .filter(certificates::valid_until.ge(today))
        }
        Some("expired") => {
            query = query
                .filter(certificates::status.eq("valid"))
                .filter(certificates::valid_until.lt(today))
        }
        Some(s) => query = query.filter(certificates::status.eq(s.to_string())),
        None => {}
    }
    if let Some(from) = q.issued_from {
        query = query.filter(certificates::issued_on.ge(from));
    }
    if let Some(to) = q.issued_to {
        query = query.filter(certificates::issued_on.le(to));
    }
    let needle =
        q.q.as_deref()
            .map(crate::domain::people::search_fold)
            .filter(|n| !n.is_empty());
    if let Some(n) = needle {
        let by_name = crate::domain::text::contains_pattern(&n);
        let by_serial = crate::domain::text::contains_pattern(&n.to_uppercase());
        query = query.filter(
            certificates::holder_id
                .eq_any(
                    users::table
                        .filter(users::name_search.like(by_name))
                        .select(users::id),
                )
                .or(certificates::serial.like(by_serial)),
        );
    }
    query
}

/// Certificates the caller may see, newest first, a page of them.
pub async fn find_certificates(
    db: &Db,
    actor: &Actor,
    q: CertificateSearch,
    viewing: Viewing,
) -> Result<CertificateList, AppError> {
    let (page, per_page) = crate::domain::paging::paging(q.page, q.per_page)?;
    q.check()?;
    let (actor, public_url, today) = (actor.clone(), viewing.public_url, viewing.today);
    db.run(move |conn| {
        let total: i64 = matching(&actor, &q, today).count().get_result(conn)?;
        let ids: Vec<Uuid> = matching(&actor, &q, today)
            .order((certificates::issued_on.desc(), certificates::serial.asc()))
            .limit(per_page)
            .offset((page - 1) * per_page)
            .select(certificates::id)
            .load(conn)?;
        Ok(CertificateList {
            items: views(conn, &ids, today, &public_url)?,
            total,
            page,
            per_page,
        })
    })
    .await
}

/// Most certificates in one export.
pub const EXPORT_LIMIT: i64 = 50_000;

/// The certificates of a search as a spreadsheet (staff): CSV or XLSX bytes, and a file name.
pub async fn export_certificates(
    db: &Db,
    actor: &Actor,
    q: CertificateSearch,
    viewing: Viewing,
    format: crate::service::reports::ReportFormat,
) -> Result<crate::service::reports::Export, AppError> {
    use crate::service::reports::{Export, ReportFormat};
    if !manages_people(&actor.roles) {
        return Err(super::refuse(db, actor, "export_certificates").await);
    }
    q.check()?;
    let (actor, public_url, today) = (actor.clone(), viewing.public_url, viewing.today);
    db.run(move |conn| {
        let ids: Vec<Uuid> = matching(&actor, &q, today)
            .order((certificates::issued_on.desc(), certificates::serial.asc()))
            .limit(EXPORT_LIMIT)
            .select(certificates::id)
            .load(conn)?;
        let list = views(conn, &ids, today, &public_url)?;
        let stem = format!("certificates-{}", today.format("%Y-%m-%d"));
        Ok(match format {
            ReportFormat::Xlsx => Export::File {
                bytes: crate::reports::certificates::to_xlsx(&list)?,
                file_name: format!("{stem}.xlsx"),
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            },
            _ => Export::File {
                bytes: crate::reports::certificates::to_csv(&list)?,
                file_name: format!("{stem}.csv"),
                content_type: "text/csv; charset=utf-8",
            },
        })
    })
    .await
}

/// One certificate the caller may see.
pub async fn certificate(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    viewing: Viewing,
) -> Result<CertificateView, AppError> {
    let actor = actor.clone();
    db.run(move |conn| {
        let row = reach_certificate(conn, &actor, id)?;
        views(conn, &[row.id], viewing.today, &viewing.public_url)?
            .pop()
            .ok_or(AppError::NotFound)
    })
    .await
}

/// A certificate's PDF (its serial, for the file name, and the bytes), rendered from the stored
/// claims; the first download records its SHA-256.
pub async fn certificate_pdf(
    db: &Db,
    actor: &Actor,
    issuer: Issuer,
    id: Uuid,
) -> Result<(String, Vec<u8>), AppError> {
    let actor = actor.clone();
    db.run(move |conn| {
        let row = reach_certificate(conn, &actor, id)?;
        let bytes = issuance::store_digest(conn, &issuer, row.id)?;
        Ok((row.serial, bytes))
    })
    .await
}

/// Every certificate of a cohort as one ZIP of PDFs (staff whose scope holds the organiser).
pub async fn cohort_certificates_zip(
    db: &Db,
    actor: &Actor,
    issuer: Issuer,
    id: Uuid,
) -> Result<Vec<u8>, AppError> {
    let a = actor.clone();
    let result = db
        .run(move |conn| {
            let actor = a;
            let cohort = reach_cohort(conn, &actor, id, Access::Read)?;
            // staff whose scope holds the organiser (an administrator's holds everything)
            if !(manages_people(&actor.roles)
                && actor.scope.covers_organization(cohort.organization_id))
            {
                return Err(AppError::Forbidden);
            }
            let rows: Vec<CertificateRow> = certificates::table
                .filter(certificates::cohort_id.eq(id))
                .order(certificates::serial.asc())
                .select(CertificateRow::as_select())
                .load(conn)?;
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            // PDFs are compressed already: store them as they are
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            for row in &rows {
                let bytes = issuance::render(&issuer, &row.claims, &row.signature, &row.kid)?;
                zip.start_file(serial_file_name(&row.serial), options)
                    .map_err(AppError::internal)?;
                zip.write_all(&bytes).map_err(AppError::internal)?;
            }
            let bytes = zip.finish().map_err(AppError::internal)?.into_inner();
            Ok(bytes)
        })
        .await;
    audited(db, actor, result, "download_cohort_certificates").await
}

/// Revokes a valid certificate, keeping the row and the reason (rule 5).
pub fn revoke_certificate(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    reason: &str,
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
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(AppError::conflict(format!(
            "The certificate is {}; only a valid one can be revoked.",
            row.status
        )));
    }
    AuditEvent::new(actor.id, "certificate_revoked", "certificate")
        .object(id)
        .from_address(&actor.address)
        .details(json!({ "serial": row.serial, "reason": reason }))
        .record(conn)?;
    Ok(())
}

/// Corrects a valid certificate: a new one with the corrected claims supersedes it, and the
/// person's record takes the correction too. Returns the new certificate's id.
pub fn reissue_certificate(
    conn: &mut PgConnection,
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
            "The certificate is {locked}; only a valid one can be corrected."
        )));
    }
    if row.valid_until <= today {
        return Err(AppError::conflict(
            "The certificate has expired; a correction would not be valid.",
        ));
    }
    let cohort_id = row
        .cohort_id
        .ok_or_else(|| AppError::conflict("This certificate has no cohort to reissue from."))?;
    let cohort = training_rows::cohort(conn, cohort_id)?;
    let course = training_rows::course(conn, row.course_id)?;
    let lineage: Vec<Uuid> = certificate_lineage::table
        .filter(certificate_lineage::certificate_id.eq(id))
        .select(certificate_lineage::master_certificate_id)
        .load(conn)?;
    // the person's record takes the correction when the caller manages that person
    let (holder_org, national_id): (Uuid, Option<String>) = users::table
        .find(row.holder_id)
        .select((users::organization_id, users::national_id))
        .first(conn)?;
    if let (Some(d), Some(nid)) = (birth, &national_id) {
        crate::domain::people::NationalId::parse(nid, Some(d)).map_err(|_| {
            AppError::validation("date_of_birth", "does not agree with the person's CCCD")
        })?;
    }
    let updates_record = actor.scope.covers_person(row.holder_id, holder_org);
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
        .set(certificates::status.eq("superseded"))
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
    let a = actor.clone();
    let result = db
        .run(move |conn| {
            conn.transaction(|conn| {
                revoke_certificate(conn, &a, id, &reason)?;
                views(conn, &[id], viewing.today, &viewing.public_url)?
                    .pop()
                    .ok_or(AppError::NotFound)
            })
        })
        .await;
    audited(db, actor, result, "revoke_certificate").await
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
    let a = actor.clone();
    let result = db
        .run(move |conn| {
            let new_id = conn.transaction(|conn| {
                reissue_certificate(conn, &issuer, &a, id, full_name.as_ref(), birth, today)
            })?;
            issuance::store_digests(conn, &issuer, &[new_id]);
            views(conn, &[new_id], today, &viewing.public_url)?
                .pop()
                .ok_or(AppError::NotFound)
        })
        .await;
    audited(db, actor, result, "reissue_certificate").await
}

/// What a master-trainer certificate reaches downstream: the cohorts its holder teaches and the
/// certificates issued on its strength, within the caller's scope — what to review when it is
/// revoked.
pub async fn downstream(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    today: NaiveDate,
) -> Result<Downstream, AppError> {
    let a = actor.clone();
    let result = db
        .run(move |conn| {
            let actor = a;
            let row = reach_certificate(conn, &actor, id)?;
            if !manages_people(&actor.roles) {
                return Err(AppError::Forbidden);
            }
            let taught: Vec<(Uuid, String, NaiveDate, NaiveDate, Uuid)> = cohorts::table
                .filter(
                    cohorts::id
                        .eq_any(
                            cohort_instructors::table
                                .filter(cohort_instructors::user_id.eq(row.holder_id))
                                .select(cohort_instructors::cohort_id),
                        )
                        .or(cohorts::id.nullable().eq_any(
                            certificates::table
                                .filter(
                                    certificates::id.eq_any(
                                        certificate_lineage::table
                                            .filter(
                                                certificate_lineage::master_certificate_id.eq(id),
                                            )
                                            .select(certificate_lineage::certificate_id),
                                    ),
                                )
                                .select(certificates::cohort_id),
                        )),
                )
                .filter(cohorts::ends_on.ge(row.issued_on))
                .order(cohorts::starts_on.asc())
                .select((
                    cohorts::id,
                    cohorts::title,
                    cohorts::starts_on,
                    cohorts::ends_on,
                    cohorts::organization_id,
                ))
                .load(conn)?;
            // only what lies in the caller's scope (rule 6)
            let taught: Vec<_> = taught
                .into_iter()
                .filter(|c| actor.scope.covers_organization(c.4))
                .collect();
            let issued: Vec<CertificateRow> = certificates::table
                .filter(
                    certificates::id.eq_any(
                        certificate_lineage::table
                            .filter(certificate_lineage::master_certificate_id.eq(id))
                            .select(certificate_lineage::certificate_id),
                    ),
                )
                .order(certificates::serial.asc())
                .select(CertificateRow::as_select())
                .load(conn)?;
            let mut issued_visible = Vec::with_capacity(issued.len());
            for c in issued {
                if visible(conn, &actor, &c)? {
                    issued_visible.push(c);
                }
            }
            let issued = issued_visible;
            Ok(Downstream {
                certificate_id: row.id,
                status: public_status(&row.status, row.valid_until, today).to_string(),
                serial: row.serial,
                cohorts: taught
                    .into_iter()
                    .map(|(id, title, starts_on, ends_on, _)| CohortBrief {
                        id,
                        title,
                        starts_on,
                        ends_on,
                    })
                    .collect(),
                certificates: issued
                    .into_iter()
                    .map(|c| DownstreamCertificate {
                        status: public_status(&c.status, c.valid_until, today).to_string(),
                        id: c.id,
                        serial: c.serial,
                        holder_name: c.holder_name,
                        issuer_name: c.issuer_name,
                    })
                    .collect(),
            })
        })
        .await;
    audited(db, actor, result, "certificate_downstream").await
}
