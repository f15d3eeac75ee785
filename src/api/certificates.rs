//! `/certificates`, `/verify/{code}`, `/keys`: certificates for their holders and staff, the
//! public verification, and the keys that signatures verify against.

use std::collections::HashMap;
use std::io::Write;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::cohorts::{reach_cohort, Access};
use crate::domain::paging::paging;
use crate::auth::current_user::{client_address, Actor, CurrentUser};
use crate::certificates::issuance::{self, NewCertificate};
use crate::db::audit::AuditEvent;
use crate::db::schema::{
    certificate_lineage, certificates, cohort_instructors, cohorts, courses, organizations,
    signing_keys, users,
};
use crate::db::training as training_rows;
use crate::domain::access::manages_people;
use crate::domain::certificates::{normalize_code, public_status, serial_file_name};
use crate::domain::people::{parse_birth_date, FullName};
use crate::error::AppError;
use crate::startup::AppState;

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

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CohortBrief {
    pub id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct CertificatePage {
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
    let cohort_briefs: HashMap<Uuid, (String, NaiveDate, NaiveDate)> = cohorts::table
        .filter(cohorts::id.eq_any(&cohort_ids))
        .select((
            cohorts::id,
            cohorts::title,
            cohorts::starts_on,
            cohorts::ends_on,
        ))
        .load::<(Uuid, String, NaiveDate, NaiveDate)>(conn)?
        .into_iter()
        .map(|(id, title, starts_on, ends_on)| (id, (title, starts_on, ends_on)))
        .collect();
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
        let cohort = r.cohort_id.and_then(|cid| {
            cohort_briefs
                .get(&cid)
                .map(|(title, starts_on, ends_on)| CohortBrief {
                    id: cid,
                    title: title.clone(),
                    starts_on: *starts_on,
                    ends_on: *ends_on,
                })
        });
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

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CertificateQuery {
    pub user_id: Option<Uuid>,
    pub cohort_id: Option<Uuid>,
    pub status: Option<String>,
    pub issued_from: Option<NaiveDate>,
    pub issued_to: Option<NaiveDate>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/certificates", params(CertificateQuery), responses((status = 200, body = CertificatePage)))]
#[get("/certificates")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CertificateQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let (page, per_page) = paging(q.page, q.per_page)?;
    crate::domain::training::check_dates(&[
        ("issued_from", q.issued_from),
        ("issued_to", q.issued_to),
    ])?;
    if let Some(s) = &q.status {
        if !matches!(s.as_str(), "valid" | "expired" | "revoked" | "superseded") {
            return Err(AppError::validation(
                "status",
                "must be valid, expired, revoked or superseded",
            ));
        }
    }
    let (actor, public_url, today) = (user.actor(), state.config.public_url.clone(), state.today());
    let result = state
        .db
        .run(move |conn| {
            let scope_orgs = actor.scope.organization_filter();
            let me = actor.id.unwrap_or_default();
            let build = || {
                let mut query = certificates::table.into_boxed();
                query = match &scope_orgs {
                    None => query,
                    Some(ids) if ids.is_empty() => query.filter(certificates::holder_id.eq(me)),
                    Some(ids) => query.filter(
                        certificates::issuer_id
                            .eq_any(ids.clone())
                            .or(certificates::holder_id.eq_any(
                                users::table
                                    .filter(users::organization_id.eq_any(ids.clone()))
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
                query
            };
            let total: i64 = build().count().get_result(conn)?;
            let ids: Vec<Uuid> = build()
                .order((certificates::issued_on.desc(), certificates::serial.asc()))
                .limit(per_page)
                .offset((page - 1) * per_page)
                .select(certificates::id)
                .load(conn)?;
            Ok(CertificatePage {
                items: views(conn, &ids, today, &public_url)?,
                total,
                page,
                per_page,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}", responses((status = 200, body = CertificateView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/certificates/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, public_url, today) = (
        id.into_inner(),
        user.actor(),
        state.config.public_url.clone(),
        state.today(),
    );
    let view = state
        .db
        .run(move |conn| {
            let row = reach_certificate(conn, &actor, id)?;
            views(conn, &[row.id], today, &public_url)?
                .pop()
                .ok_or(AppError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn pdf_response(serial: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(serial_file_name(serial))],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/pdf", responses((status = 200, content_type = "application/pdf"), (status = 404, body = crate::error::ErrorBody)))]
#[get("/certificates/{id}/pdf")]
pub async fn pdf(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, issuer) = (id.into_inner(), user.actor(), state.issuer());
    let (serial, bytes) = state
        .db
        .run(move |conn| {
            let row = reach_certificate(conn, &actor, id)?;
            let bytes = issuance::store_digest(conn, &issuer, row.id)?;
            Ok((row.serial, bytes))
        })
        .await?;
    Ok(pdf_response(&serial, bytes))
}

/// Every certificate of a cohort as one ZIP of PDFs.
#[utoipa::path(get, path = "/api/v1/cohorts/{id}/certificates.zip", responses((status = 200, content_type = "application/zip"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/cohorts/{id}/certificates.zip")]
pub async fn cohort_zip(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, issuer) = (id.into_inner(), user.actor(), state.issuer());
    let result = state
        .db
        .run(move |conn| {
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
            Ok((cohort.title, bytes))
        })
        .await;
    let (_, bytes) = user.audited(result, "download_cohort_certificates").await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("certificates-{id}.zip"))],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueBody {
    #[schema(min_length = 1, max_length = 80)]
    pub full_name: Option<String>,
    pub date_of_birth: Option<String>,
}

/// Only an administrator or a coordinator of the issuer revokes or corrects.
fn require_issuer_coordinator(actor: &Actor, row: &CertificateRow) -> Result<(), AppError> {
    if actor.coordinates(row.issuer_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/revoke", request_body = RevokeBody,
    responses((status = 200, body = CertificateView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/certificates/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<RevokeBody>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::text::{limits, TextRule};
    let reason = TextRule::line("reason", limits::REVOCATION_REASON)
        .multiline()
        .check(&body.reason)
        .map(|r| crate::domain::organizations::clean_text(&r))
        .map_err(|e| AppError::Validation(vec![e]))?;
    let (id, actor, public_url, today) = (
        id.into_inner(),
        user.actor(),
        state.config.public_url.clone(),
        state.today(),
    );
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                revoke_certificate(conn, &actor, id, &reason)?;
                views(conn, &[id], today, &public_url)?
                    .pop()
                    .ok_or(AppError::NotFound)
            })
        })
        .await;
    let view = user.audited(result, "revoke_certificate").await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A correction: a new certificate with the corrected claims supersedes the old one; both stay
/// verifiable. The person's record takes the correction too.
#[utoipa::path(post, path = "/api/v1/certificates/{id}/reissue", request_body = ReissueBody,
    responses((status = 201, body = CertificateView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/certificates/{id}/reissue")]
pub async fn reissue(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<ReissueBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let full_name = match &body.full_name {
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
    let today = state.today();
    let birth = match body.date_of_birth.as_deref() {
        Some(d) => Some(parse_birth_date(d, today).map_err(|e| AppError::Validation(vec![e]))?),
        None => None,
    };
    let (id, actor, issuer, public_url) = (
        id.into_inner(),
        user.actor(),
        state.issuer(),
        state.config.public_url.clone(),
    );
    let result = state
        .db
        .run(move |conn| {
            let new_id = conn.transaction(|conn| {
                reissue_certificate(conn, &issuer, &actor, id, full_name.as_ref(), birth, today)
            })?;
            issuance::store_digests(conn, &issuer, &[new_id]);
            views(conn, &[new_id], today, &public_url)?
                .pop()
                .ok_or(AppError::NotFound)
        })
        .await;
    let view = user.audited(result, "reissue_certificate").await?;
    Ok(HttpResponse::Created().json(view))
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
    pub lineage: Vec<LineageLink>,
}

/// Looks a certificate up by its verification code, walking its lineage up to the state agency.
pub fn verification(
    conn: &mut PgConnection,
    code: &str,
    today: NaiveDate,
) -> Result<Verification, AppError> {
    let code = normalize_code(code).ok_or(AppError::NotFound)?;
    let row: CertificateRow = certificates::table
        .filter(certificates::verification_code.eq(&code))
        .select(CertificateRow::as_select())
        .first(conn)?;
    let superseded_by_serial: Option<String> = certificates::table
        .filter(certificates::supersedes_id.eq(row.id))
        .select(certificates::serial)
        .first(conn)
        .optional()?;
    // walk up: each link's own lineage, until the master-trainer certificates (issued by BNV)
    let mut lineage = Vec::new();
    let mut frontier = vec![row.id];
    let mut seen = std::collections::HashSet::new();
    while let Some(current) = frontier.pop() {
        let masters: Vec<CertificateRow> = certificates::table
            .filter(
                certificates::id.eq_any(
                    certificate_lineage::table
                        .filter(certificate_lineage::certificate_id.eq(current))
                        .select(certificate_lineage::master_certificate_id),
                ),
            )
            .order(certificates::serial.asc())
            .select(CertificateRow::as_select())
            .load(conn)?;
        for m in masters {
            if seen.insert(m.id) && lineage.len() < 50 {
                frontier.push(m.id);
                lineage.push(LineageLink {
                    status: public_status(&m.status, m.valid_until, today).to_string(),
                    serial: m.serial,
                    holder_name: m.holder_name,
                    tier: m.tier,
                    issuer_name: m.issuer_name,
                });
            }
        }
    }
    Ok(Verification {
        status: public_status(&row.status, row.valid_until, today).to_string(),
        serial: row.serial,
        holder_name: row.holder_name,
        course_title: row.course_title,
        curriculum_version: row.curriculum_version,
        tier: row.tier,
        issuer_name: row.issuer_name,
        issued_on: row.issued_on,
        valid_until: row.valid_until,
        revocation_reason: row.revocation_reason,
        superseded_by_serial,
        lineage,
    })
}

#[utoipa::path(get, path = "/api/v1/verify/{code}", responses((status = 200, body = Verification), (status = 404, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
#[get("/verify/{code}")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state.verify_limiter.check(&client_address(&req))?;
    let code = code.into_inner();
    let today = state.today();
    let answer = state
        .db
        .run(move |conn| verification(conn, &code, today))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
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

#[utoipa::path(get, path = "/api/v1/keys", responses((status = 200, body = Vec<PublicKey>)))]
#[get("/keys")]
pub async fn keys(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let found_keys = state
        .db
        .run(move |conn| {
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
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(found_keys))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Downstream {
    pub certificate_id: Uuid,
    pub serial: String,
    pub status: String,
    /// Cohorts this master trainer teaches or taught.
    pub cohorts: Vec<CohortBrief>,
    /// Certificates issued with this certificate in their lineage.
    pub certificates: Vec<DownstreamCertificate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DownstreamCertificate {
    pub id: Uuid,
    pub serial: String,
    pub holder_name: String,
    pub issuer_name: String,
    pub status: String,
}

/// What a master-trainer certificate reaches downstream: the cohorts its holder teaches and the
/// certificates issued on its strength — what to review when it is revoked.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/downstream", responses((status = 200, body = Downstream), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/certificates/{id}/downstream")]
pub async fn downstream(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, today) = (id.into_inner(), user.actor(), state.today());
    let result = state
        .db
        .run(move |conn| {
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
    let body = user.audited(result, "certificate_downstream").await?;
    Ok(HttpResponse::Ok().json(body))
}
