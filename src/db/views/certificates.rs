//! Read models of certificates: what the API and the pages show of one, built in a few batched
//! queries for a whole page; what a verifier sees; the published keys; what a master trainer's
//! certificate reaches downstream.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::{
    certificate_lineage, certificates, cohort_instructors, cohorts, courses, organizations,
    signing_keys,
};
use crate::domain::certificates::public_status;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = certificates)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CertificateRow {
    pub id: Uuid,
    pub serial: String,
    pub issuer_id: Uuid,
    pub verification_code: String,
    pub holder_id: Uuid,
    pub enrollment_id: Option<Uuid>,
    pub course_id: Uuid,
    pub cohort_id: Option<Uuid>,
    pub tier: String,
    pub holder_name: String,
    pub holder_birth_date: Option<NaiveDate>,
    pub course_title: String,
    pub curriculum_version: String,
    pub issuer_name: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: String,
    pub revocation_reason: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub supersedes_id: Option<Uuid>,
    pub claims: Vec<u8>,
    pub signature: Vec<u8>,
    pub kid: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Holder {
    pub id: Uuid,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CourseBrief {
    pub id: Uuid,
    pub title: String,
    pub curriculum_version: String,
    /// A newer curriculum version replaced this course: the holder needs a refresher.
    pub superseded: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CohortBrief {
    pub id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuerBrief {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    pub id: Uuid,
    pub serial: String,
    pub verification_code: String,
    pub verify_url: String,
    pub holder: Holder,
    pub course: CourseBrief,
    pub cohort: Option<CohortBrief>,
    pub issuer: IssuerBrief,
    pub tier: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// valid, expired, revoked or superseded
    pub status: String,
    pub revocation_reason: Option<String>,
    pub supersedes_id: Option<Uuid>,
    pub superseded_by_id: Option<Uuid>,
    /// The master-trainer certificates of the instructors, at issue time.
    pub lineage: Vec<Uuid>,
    pub needs_refresher: bool,
}

// A page of certificates; the OpenAPI document names it `CertificatePage`, as it always has.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CertificatePage)]
pub struct CertificateList {
    pub items: Vec<CertificateView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Builds the views of these certificates, in the given order.
pub fn views(
    conn: &mut PgConnection,
    ids: &[Uuid],
    today: NaiveDate,
    public_url: &str,
) -> Result<Vec<CertificateView>, AppError> {
    let rows: Vec<CertificateRow> = certificates::table
        .filter(certificates::id.eq_any(ids))
        .select(CertificateRow::as_select())
        .load(conn)?;
    // five batched look-ups for the whole page, not five per certificate
    let mut lineage_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (cert, master) in certificate_lineage::table
        .filter(certificate_lineage::certificate_id.eq_any(ids))
        .select((
            certificate_lineage::certificate_id,
            certificate_lineage::master_certificate_id,
        ))
        .load::<(Uuid, Uuid)>(conn)?
    {
        lineage_of.entry(cert).or_default().push(master);
    }
    let superseded_by: HashMap<Uuid, Uuid> = certificates::table
        .filter(certificates::supersedes_id.eq_any(ids))
        .select((
            certificates::supersedes_id.assume_not_null(),
            certificates::id,
        ))
        .load::<(Uuid, Uuid)>(conn)?
        .into_iter()
        .collect();
    let course_ids: Vec<Uuid> = rows.iter().map(|r| r.course_id).collect();
    let superseded_courses: HashMap<Uuid, bool> = courses::table
        .filter(courses::id.eq_any(&course_ids))
        .select((courses::id, courses::superseded_by_id))
        .load::<(Uuid, Option<Uuid>)>(conn)?
        .into_iter()
        .map(|(id, by)| (id, by.is_some()))
        .collect();
    let cohort_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.cohort_id).collect();
    let cohort_briefs = cohort_briefs(conn, &cohort_ids)?;
    let issuer_ids: Vec<Uuid> = rows.iter().map(|r| r.issuer_id).collect();
    let issuers: HashMap<Uuid, (String, String)> = organizations::table
        .filter(organizations::id.eq_any(&issuer_ids))
        .select((organizations::id, organizations::code, organizations::name))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for id in ids {
        let Some(r) = rows.iter().find(|r| r.id == *id) else {
            continue;
        };
        let lineage = lineage_of.get(&r.id).cloned().unwrap_or_default();
        let superseded_by_id = superseded_by.get(&r.id).copied();
        let course_superseded = superseded_courses
            .get(&r.course_id)
            .copied()
            .unwrap_or(false);
        let cohort = r.cohort_id.and_then(|cid| cohort_briefs.get(&cid).cloned());
        let (icode, iname) = issuers.get(&r.issuer_id).cloned().unwrap_or_default();
        let status = public_status(&r.status, r.valid_until, today);
        out.push(CertificateView {
            id: r.id,
            serial: r.serial.clone(),
            verification_code: r.verification_code.clone(),
            verify_url: format!("{public_url}/verify/{}", r.verification_code),
            holder: Holder {
                id: r.holder_id,
                full_name: r.holder_name.clone(),
                date_of_birth: r.holder_birth_date,
            },
            course: CourseBrief {
                id: r.course_id,
                title: r.course_title.clone(),
                curriculum_version: r.curriculum_version.clone(),
                superseded: course_superseded,
            },
            cohort,
            issuer: IssuerBrief {
                id: r.issuer_id,
                code: icode,
                name: iname,
            },
            tier: r.tier.clone(),
            issued_on: r.issued_on,
            valid_until: r.valid_until,
            status: status.to_string(),
            revocation_reason: r.revocation_reason.clone(),
            supersedes_id: r.supersedes_id,
            superseded_by_id,
            lineage,
            needs_refresher: status == "valid" && course_superseded,
        });
    }
    Ok(out)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineageLink {
    pub serial: String,
    pub holder_name: String,
    pub tier: String,
    pub issuer_name: String,
    pub status: String,
}

/// Only what a verifier needs: no date of birth, no national id, no internal ids.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub status: String,
    pub serial: String,
    pub holder_name: String,
    pub course_title: String,
    pub curriculum_version: String,
    pub tier: String,
    pub issuer_name: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by_serial: Option<String>,
    /// The verification code of the certificate that replaced this one (a correction), so a
    /// verifier can follow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by_code: Option<String>,
    pub lineage: Vec<LineageLink>,
}

/// kid, public key, created, retired.
type KeyRow = (String, Vec<u8>, DateTime<Utc>, Option<DateTime<Utc>>);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicKey {
    pub kid: String,
    pub public_key_base64: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// The Ed25519 public keys that certificate signatures verify against, oldest first.
pub fn public_keys(conn: &mut PgConnection) -> QueryResult<Vec<PublicKey>> {
    let rows: Vec<KeyRow> = signing_keys::table
        .order(signing_keys::created_at.asc())
        .select((
            signing_keys::kid,
            signing_keys::public_key,
            signing_keys::created_at,
            signing_keys::retired_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(kid, key, created_at, retired_at)| PublicKey {
            kid,
            public_key_base64: base64::engine::general_purpose::STANDARD.encode(key),
            created_at,
            retired_at,
        })
        .collect())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Downstream {
    pub certificate_id: Uuid,
    pub serial: String,
    pub status: String,
    /// Cohorts this master trainer teaches or taught. For the issuer of the certificate (its
    /// coordinator, or an administrator) every one, wherever it lies; for others those in their
    /// scope.
    pub cohorts: Vec<DownstreamCohort>,
    /// Certificates issued with this certificate in their lineage, as far as `cohorts` reach.
    pub certificates: Vec<DownstreamCertificate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DownstreamCohort {
    pub id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The organiser.
    pub organization: IssuerBrief,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DownstreamCertificate {
    pub id: Uuid,
    pub serial: String,
    /// valid, expired, revoked or superseded
    pub status: String,
    pub cohort: Option<CohortBrief>,
    /// The organisation that issued it.
    pub organization: IssuerBrief,
    pub issuer_name: String,
    /// The holder's name, only where the reader may see the certificate itself (their scope
    /// covers the holder or its issuer); `null` otherwise.
    pub holder_name: Option<String>,
    /// The holder, on the same condition as `holder_name`.
    pub holder: Option<Holder>,
}

/// (id, title, starts on, ends on, organiser) of a cohort a master trainer's strength reached.
pub type TaughtRow = (Uuid, String, NaiveDate, NaiveDate, Uuid);

/// The cohorts a master-trainer certificate reached, earliest first: those its holder teaches and
/// those whose certificates name it in their lineage, ending on or after it was issued.
pub fn cohorts_reached(
    conn: &mut PgConnection,
    master: &CertificateRow,
) -> QueryResult<Vec<TaughtRow>> {
    cohorts::table
        .filter(
            cohorts::id
                .eq_any(
                    cohort_instructors::table
                        .filter(cohort_instructors::user_id.eq(master.holder_id))
                        .select(cohort_instructors::cohort_id),
                )
                .or(cohorts::id.nullable().eq_any(
                    certificates::table
                        .filter(
                            certificates::id.eq_any(
                                certificate_lineage::table
                                    .filter(
                                        certificate_lineage::master_certificate_id.eq(master.id),
                                    )
                                    .select(certificate_lineage::certificate_id),
                            ),
                        )
                        .select(certificates::cohort_id),
                )),
        )
        .filter(cohorts::ends_on.ge(master.issued_on))
        .order(cohorts::starts_on.asc())
        .select((
            cohorts::id,
            cohorts::title,
            cohorts::starts_on,
            cohorts::ends_on,
            cohorts::organization_id,
        ))
        .load(conn)
}

/// The certificates issued on the strength of master certificate `master`, by serial.
pub fn issued_on_strength_of(
    conn: &mut PgConnection,
    master: Uuid,
) -> QueryResult<Vec<CertificateRow>> {
    certificates::table
        .filter(
            certificates::id.eq_any(
                certificate_lineage::table
                    .filter(certificate_lineage::master_certificate_id.eq(master))
                    .select(certificate_lineage::certificate_id),
            ),
        )
        .order(certificates::serial.asc())
        .select(CertificateRow::as_select())
        .load(conn)
}

/// These cohorts as briefs, by id.
pub fn cohort_briefs(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, CohortBrief>> {
    Ok(cohorts::table
        .filter(cohorts::id.eq_any(ids))
        .select((
            cohorts::id,
            cohorts::title,
            cohorts::starts_on,
            cohorts::ends_on,
        ))
        .load::<(Uuid, String, NaiveDate, NaiveDate)>(conn)?
        .into_iter()
        .map(|(id, title, starts_on, ends_on)| {
            (
                id,
                CohortBrief {
                    id,
                    title,
                    starts_on,
                    ends_on,
                },
            )
        })
        .collect())
}
