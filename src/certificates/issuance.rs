//! Issuing certificates: gap-free serials per issuer and year, signed claims, the PDF digest,
//! and the lineage of a tier-2 certificate.

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::pdf::{self, CertificatePage, Instructor};
use super::Issuer;
use crate::db::certificates as rows;
use crate::db::organizations::{self as orgs, OrganizationRow};
use crate::db::schema::{certificate_counters, certificates, signing_keys};
use crate::db::training::{CohortRow, CourseRow};
use crate::domain::certificates::{
    format_serial, group_code, key_id, new_verification_code, sign, CertificateClaims,
    LineageClaim, SignedClaims,
};
use crate::domain::training::{valid_until, Tier};
use crate::error::{AppError, ErrorCode};

impl Issuer {
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.signing_key_seed)
    }

    pub fn kid(&self) -> String {
        key_id(&self.signing_key().verifying_key())
    }

    pub fn verify_url(&self, code: &str) -> String {
        format!("{}/verify/{}", self.public_url, code)
    }
}

/// Records the current public key so that `/keys` serves it and old certificates keep verifying
/// after a rotation.
pub fn register_key(conn: &mut PgConnection, issuer: &Issuer) -> QueryResult<String> {
    let key = issuer.signing_key().verifying_key();
    let kid = key_id(&key);
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&kid),
            signing_keys::public_key.eq(key.as_bytes().to_vec()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(kid)
}

/// Takes the next `count` serial numbers of an issuer's year. The counter row stays locked until
/// the transaction ends, so concurrent issuers queue, and a rollback gives the numbers back:
/// no gaps, no duplicates (the UNIQUE constraint on the numbers backs this up).
pub fn take_serial_numbers(
    conn: &mut PgConnection,
    issuer_id: Uuid,
    year: i32,
    count: i32,
) -> QueryResult<std::ops::RangeInclusive<i32>> {
    diesel::insert_into(certificate_counters::table)
        .values((
            certificate_counters::issuer_id.eq(issuer_id),
            certificate_counters::year.eq(year),
            certificate_counters::last_number.eq(0),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let last: i32 = diesel::update(
        certificate_counters::table
            .filter(certificate_counters::issuer_id.eq(issuer_id))
            .filter(certificate_counters::year.eq(year)),
    )
    .set(certificate_counters::last_number.eq(certificate_counters::last_number + count))
    .returning(certificate_counters::last_number)
    .get_result(conn)?;
    Ok((last - count + 1)..=last)
}

/// Where a certificate is signed: the issuer's province, Hà Nội for the national bodies.
pub fn place_of(conn: &mut PgConnection, issuer: &OrganizationRow) -> QueryResult<String> {
    Ok(match &issuer.province_code {
        Some(code) => orgs::province(conn, code)?.map_or_else(|| "Hà Nội".to_string(), |p| p.name),
        None => "Hà Nội".to_string(),
    })
}

/// The body above the issuer on the page (BHXH Việt Nam above a branch), if any.
fn parent_name(conn: &mut PgConnection, issuer: &OrganizationRow) -> QueryResult<Option<String>> {
    if issuer.kind == "branch" {
        if let Some(parent) = issuer.parent_id {
            return Ok(Some(orgs::find(conn, parent)?.name));
        }
    }
    Ok(None)
}

/// The page of a certificate, drawn from its claims alone (so every node renders the same bytes).
pub fn page_from_claims(claims: &CertificateClaims, issuer: &Issuer) -> CertificatePage {
    CertificatePage {
        certificate_id: claims.certificate_id,
        serial: claims.serial.clone(),
        tier: match claims.tier {
            Tier::MasterTrainer => pdf::Tier::MasterTrainer,
            Tier::Propagandist => pdf::Tier::Propagandist,
        },
        issuer_parent_name: claims.issuer_parent_name.clone(),
        issuer_name: claims.issuer_name.clone(),
        holder_name: claims.holder_name.clone(),
        holder_birth_date: claims.holder_birth_date,
        holder_workplace: claims.holder_workplace.clone(),
        course_title: claims.course_title.clone(),
        curriculum_version: claims.curriculum_version.clone(),
        cohort_starts_on: claims.cohort_starts_on,
        cohort_ends_on: claims.cohort_ends_on,
        cohort_location: claims.cohort_location.clone(),
        place: claims.place.clone(),
        issued_on: claims.issued_on,
        valid_until: claims.valid_until,
        signer_title: claims.signer_title.clone(),
        signer_name: claims.signer_name.clone(),
        instructors: claims
            .lineage
            .iter()
            .map(|l| Instructor {
                name: l.holder_name.clone(),
                certificate_serial: l.serial.clone(),
            })
            .collect(),
        verify_url: issuer.verify_url(&claims.verification_code),
        verification_code: group_code(&claims.verification_code),
        embedded_claims: Vec::new(),
    }
}

/// Renders the PDF of stored claims and signature.
pub fn render(
    issuer: &Issuer,
    claims_bytes: &[u8],
    signature: &[u8],
    kid: &str,
) -> Result<Vec<u8>, AppError> {
    let claims: CertificateClaims =
        serde_json::from_slice(claims_bytes).map_err(AppError::internal)?;
    let mut page = page_from_claims(&claims, issuer);
    page.embedded_claims = SignedClaims::new(kid, claims_bytes, signature).to_bytes();
    pdf::render(&page).map_err(|e| match e {
        // input limits make this unreachable; should it happen, say so rather than 500
        pdf::PdfError::DoesNotFit(part) => {
            tracing::warn!(part, "a certificate does not fit on its page");
            AppError::Rule {
                code: ErrorCode::CertificateDoesNotFit,
                message: "Nội dung giấy chứng nhận không vừa một trang; \
                          hãy rút ngắn họ tên, tên khóa bồi dưỡng hoặc chức danh."
                    .into(),
            }
        }
        other => AppError::internal(other),
    })
}

/// What one new certificate needs beyond the cohort: who, for which enrolment, with which name.
pub struct NewCertificate {
    pub holder_id: Uuid,
    pub enrollment_id: Option<Uuid>,
    pub holder_name: Option<String>,
    pub holder_birth_date: Option<Option<NaiveDate>>,
    pub supersedes: Option<(Uuid, String)>,
    /// A correction keeps the validity of the certificate it corrects.
    pub valid_until: Option<NaiveDate>,
    pub issued_on: NaiveDate,
}

/// Issues certificates for a cohort's people, in the caller's transaction; returns their ids.
/// However many people, it costs a fixed number of statements: one look-up of every holder,
/// a multi-row insert of the certificates (a thousand a statement) and one of their lineage.
pub fn issue(
    conn: &mut PgConnection,
    issuer: &Issuer,
    cohort: &CohortRow,
    course: &CourseRow,
    lineage: &[Uuid],
    new: &[NewCertificate],
) -> Result<Vec<Uuid>, AppError> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let kid = register_key(conn, issuer)?;
    let key = issuer.signing_key();
    let organizer = orgs::find(conn, cohort.organization_id)?;
    let (Some(signer_name), Some(signer_title)) = (
        organizer.signer_name.clone(),
        organizer.signer_title.clone(),
    ) else {
        return Err(AppError::Rule {
            code: ErrorCode::SignerMissing,
            message: format!(
                "{} chưa có người ký giấy chứng nhận; quản trị viên cần nhập \
                 họ tên và chức danh người ký (signer_name, signer_title) trước.",
                organizer.name
            ),
        });
    };
    let place = place_of(conn, &organizer)?;
    let parent = parent_name(conn, &organizer)?;
    let lineage_claims: Vec<LineageClaim> = certificates::table
        .filter(certificates::id.eq_any(lineage))
        .order(certificates::serial.asc())
        .select((
            certificates::id,
            certificates::serial,
            certificates::holder_name,
        ))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .map(|(certificate_id, serial, holder_name)| LineageClaim {
            certificate_id,
            serial,
            holder_name,
        })
        .collect();
    let holder_ids: Vec<Uuid> = new.iter().map(|n| n.holder_id).collect();
    let holders = rows::holders(conn, &holder_ids)?;

    // all of one call share a year: a cohort's certificates are issued on one day
    let year = new[0].issued_on.year();
    let count = i32::try_from(new.len()).map_err(AppError::internal)?;
    let numbers = take_serial_numbers(conn, organizer.id, year, count)?;
    let mut signed = Vec::with_capacity(new.len());
    for (n, item) in numbers.zip(new) {
        let holder = holders.get(&item.holder_id).ok_or(AppError::NotFound)?;
        let issued_on = item.issued_on;
        let until = match item.valid_until {
            Some(v) => v,
            None => valid_until(issued_on, course.certificate_validity_months)
                .ok_or_else(|| AppError::internal("validity out of range"))?,
        };
        let claims = CertificateClaims {
            v: 1,
            certificate_id: Uuid::new_v4(),
            serial: format_serial(n, year, &organizer.code),
            verification_code: new_verification_code(),
            tier: course.tier(),
            holder_name: item
                .holder_name
                .clone()
                .unwrap_or_else(|| holder.full_name.clone()),
            holder_birth_date: item.holder_birth_date.unwrap_or(holder.date_of_birth),
            holder_workplace: holder.workplace.clone(),
            course_title: course.title.clone(),
            curriculum_version: course.curriculum_version.clone(),
            cohort_starts_on: cohort.starts_on,
            cohort_ends_on: cohort.ends_on,
            cohort_location: if cohort.mode == "online" {
                "Trực tuyến".to_string()
            } else {
                cohort.location.clone()
            },
            issuer_code: organizer.code.clone(),
            issuer_name: organizer.name.clone(),
            issuer_parent_name: parent.clone(),
            place: place.clone(),
            signer_name: signer_name.clone(),
            signer_title: signer_title.clone(),
            issued_on,
            valid_until: until,
            lineage: lineage_claims.clone(),
            supersedes: item.supersedes.as_ref().map(|(_, serial)| serial.clone()),
        };
        let bytes = claims.canonical_bytes();
        let signature = sign(&key, &bytes);
        signed.push((n, item, claims, bytes, signature));
    }
    let new_rows: Vec<rows::NewCertificateRow<'_>> = signed
        .iter()
        .map(
            |(n, item, claims, bytes, signature)| rows::NewCertificateRow {
                id: claims.certificate_id,
                serial: &claims.serial,
                issuer_id: organizer.id,
                serial_year: year,
                serial_number: *n,
                verification_code: &claims.verification_code,
                holder_id: item.holder_id,
                enrollment_id: item.enrollment_id,
                course_id: course.id,
                cohort_id: Some(cohort.id),
                tier: claims.tier.as_str(),
                holder_name: &claims.holder_name,
                holder_birth_date: claims.holder_birth_date,
                holder_workplace: &claims.holder_workplace,
                course_title: &claims.course_title,
                curriculum_version: &claims.curriculum_version,
                issuer_name: &claims.issuer_name,
                signer_name: &claims.signer_name,
                signer_title: &claims.signer_title,
                cohort_starts_on: claims.cohort_starts_on,
                cohort_ends_on: claims.cohort_ends_on,
                place: &claims.place,
                issued_on: claims.issued_on,
                valid_until: claims.valid_until,
                supersedes_id: item.supersedes.as_ref().map(|(id, _)| *id),
                claims: bytes,
                signature,
                kid: &kid,
            },
        )
        .collect();
    rows::insert_many(conn, &new_rows)?;
    let issued: Vec<Uuid> = signed.iter().map(|s| s.2.certificate_id).collect();
    let links: Vec<(Uuid, Uuid)> = issued
        .iter()
        .flat_map(|id| lineage_claims.iter().map(|l| (*id, l.certificate_id)))
        .collect();
    rows::insert_lineage(conn, &links)?;
    // the holders' coverage (and completions, set by finalising before this) in this transaction
    crate::db::coverage_summary::holders_changed(conn, &holder_ids)?;
    Ok(issued)
}

/// Renders the PDF of each stored certificate on every core of the machine, handing each
/// result to `keep` as it comes (so that only what `keep` answers, not every PDF, stays in
/// memory); what `keep` answered, in the order of `stored`. PDFs are rendered from claims
/// alone, so the thread that renders one does not change its bytes.
pub fn render_each<R: Send>(
    issuer: &Issuer,
    stored: &[rows::StoredClaims],
    keep: impl Fn(&rows::StoredClaims, Result<Vec<u8>, AppError>) -> R + Sync,
) -> Vec<R> {
    let one = |s: &rows::StoredClaims| keep(s, render(issuer, &s.claims, &s.signature, &s.kid));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(stored.len());
    if workers <= 1 {
        return stored.iter().map(one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(s) = stored.get(i) else {
                return done;
            };
            done.push((i, one(s)));
        }
    };
    let mut results = std::thread::scope(|scope| {
        // this thread works too; a helper the system refuses to start only means fewer helpers
        let helpers: Vec<_> = (1..workers)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                // a panic while rendering: as if it had happened on this thread
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Certificates whose digests are rendered and recorded together: the claims of this many are
/// in memory at once.
const DIGESTS_PER_BATCH: usize = 500;

/// Renders the PDFs of freshly issued certificates on every core and records their SHA-256,
/// once, after the issuing transaction has committed (rendering takes a millisecond or more a
/// page; holding the issuer's serial counter locked meanwhile would queue every other
/// issuance), a batch of them a statement. Best effort: a digest that could not be stored now is
/// stored at the first download.
pub fn store_digests(conn: &mut PgConnection, issuer: &Issuer, ids: &[Uuid]) {
    for batch in ids.chunks(DIGESTS_PER_BATCH) {
        if let Err(e) = store_batch_digests(conn, issuer, batch) {
            tracing::warn!(certificates = batch.len(), error = %e, "could not record PDF digests");
        }
    }
}

fn store_batch_digests(
    conn: &mut PgConnection,
    issuer: &Issuer,
    ids: &[Uuid],
) -> Result<usize, AppError> {
    let stored = rows::stored_claims_without_digest(conn, ids)?;
    let digests: Vec<(Uuid, [u8; 32])> = render_each(issuer, &stored, |s, pdf| match pdf {
        Ok(bytes) => Some((s.id, Sha256::digest(&bytes).into())),
        Err(e) => {
            tracing::warn!(certificate = %s.id, error = %e, "could not render a certificate");
            None
        }
    })
    .into_iter()
    .flatten()
    .collect();
    rows::record_digests(conn, &digests)?;
    Ok(digests.len())
}

/// Records the digest of every certificate that has none — those a crash left between an
/// issuance's commit and [`store_digests`] — a batch at a time, by id, so a certificate that
/// cannot be rendered is passed over rather than tried forever. The number recorded.
pub fn record_missing_digests(conn: &mut PgConnection, issuer: &Issuer) -> Result<usize, AppError> {
    let mut after = None;
    let mut recorded = 0;
    loop {
        let ids = rows::without_digest(conn, after, DIGESTS_PER_BATCH as i64)?;
        let Some(last) = ids.last().copied() else {
            return Ok(recorded);
        };
        recorded += store_batch_digests(conn, issuer, &ids)?;
        after = Some(last);
    }
}

/// Renders one certificate and records its digest if none is recorded yet; the bytes.
pub fn store_digest(
    conn: &mut PgConnection,
    issuer: &Issuer,
    id: Uuid,
) -> Result<Vec<u8>, AppError> {
    let (claims, signature, kid, stored): (Vec<u8>, Vec<u8>, String, Option<Vec<u8>>) =
        certificates::table
            .find(id)
            .select((
                certificates::claims,
                certificates::signature,
                certificates::kid,
                certificates::pdf_sha256,
            ))
            .first(conn)?;
    let bytes = render(issuer, &claims, &signature, &kid)?;
    if stored.is_none() {
        diesel::update(
            certificates::table
                .find(id)
                .filter(certificates::pdf_sha256.is_null()),
        )
        .set(certificates::pdf_sha256.eq(Sha256::digest(&bytes).to_vec()))
        .execute(conn)?;
    }
    Ok(bytes)
}

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&crate::domain::training::vietnam_time())
        .date_naive()
}
