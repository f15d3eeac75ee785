//! The certificates of a seeding: serial numbers from the counters, claims signed as issuance
//! signs them, the rows and their lineage.

use chrono::Datelike;
use diesel::prelude::*;
use indicatif::ProgressBar;

use super::copy::{pipelined, Rows};
use super::plan::Plan;
use crate::certificates::{issuance, Issuer};
use crate::copy_rows;
use crate::db::schema::{certificate_lineage, certificates};
use crate::domain::certificates::{format_serial, sign, CertificateClaims, LineageClaim};
use crate::domain::training::Tier;
use crate::error::AppError;

/// Serial numbers from the counters, as issuance takes them: per issuer and year, in the order
/// of issue, no gaps, after any number already used.
pub(super) fn take_serials(conn: &mut PgConnection, plan: &mut Plan) -> Result<(), AppError> {
    for ((issuer, year), list) in plan.serial_groups() {
        let count = i32::try_from(list.len()).map_err(AppError::internal)?;
        let numbers = issuance::take_serial_numbers(conn, plan.orgs[issuer].id, year, count)?;
        for (n, c) in numbers.zip(list) {
            plan.certificates[c].serial_number = n;
        }
    }
    Ok(())
}

fn serial_of(plan: &Plan, c: usize) -> String {
    let cert = &plan.certificates[c];
    let issuer = &plan.orgs[plan.cohorts[cert.cohort as usize].org];
    format_serial(cert.serial_number, cert.issued_on.year(), &issuer.code)
}

/// The claims of one certificate, exactly as issuance signs them.
fn claims_of(plan: &Plan, c: usize) -> CertificateClaims {
    let cert = &plan.certificates[c];
    let cohort = &plan.cohorts[cert.cohort as usize];
    let course = &plan.courses[usize::from(cohort.course)];
    let issuer = &plan.orgs[cohort.org];
    let holder = &plan.people[cert.person as usize];
    let mut lineage: Vec<LineageClaim> = cohort
        .instructors
        .iter()
        .map(|(person, master)| LineageClaim {
            certificate_id: plan.certificates[*master].id,
            serial: serial_of(plan, *master),
            holder_name: plan.people[*person].full_name.clone(),
        })
        .collect();
    lineage.sort_by(|a, b| a.serial.cmp(&b.serial));
    CertificateClaims {
        v: 1,
        certificate_id: cert.id,
        serial: serial_of(plan, c),
        verification_code: cert.verification_code.clone(),
        tier: if course.tier == "master_trainer" {
            Tier::MasterTrainer
        } else {
            Tier::Propagandist
        },
        holder_name: holder.full_name.clone(),
        holder_birth_date: Some(holder.date_of_birth),
        holder_workplace: plan.orgs[holder.org].name.clone(),
        course_title: course.title.clone(),
        curriculum_version: course.curriculum_version.clone(),
        cohort_starts_on: cohort.starts_on,
        cohort_ends_on: cohort.ends_on,
        cohort_location: cohort.location.clone(),
        issuer_code: issuer.code.clone(),
        issuer_name: issuer.name.clone(),
        issuer_parent_name: issuer.parent_name.clone(),
        place: issuer.place.clone(),
        signer_name: issuer.signer_name.clone(),
        signer_title: issuer.signer_title.clone(),
        issued_on: cert.issued_on,
        valid_until: cert.valid_until,
        lineage,
        supersedes: cert.supersedes.map(|s| serial_of(plan, s as usize)),
    }
}

/// Writes the rows of these certificates (claims signed here) and their lineage.
fn certificate_rows(
    plan: &Plan,
    key: &ed25519_dalek::SigningKey,
    kid: &str,
    list: &[usize],
    rows: &mut Rows,
    lineage: &mut Rows,
) {
    for &c in list {
        let claims = claims_of(plan, c);
        let bytes = claims.canonical_bytes();
        let signature = sign(key, &bytes);
        let cert = &plan.certificates[c];
        let cohort = &plan.cohorts[cert.cohort as usize];
        let issuer = &plan.orgs[cohort.org];
        rows.uuid(cert.id)
            .text(&claims.serial)
            .uuid(issuer.id)
            .plain(cert.issued_on.year())
            .plain(cert.serial_number)
            .text(&claims.verification_code)
            .uuid(plan.people[cert.person as usize].id)
            .uuid(plan.enrolments[cert.enrolment as usize].id)
            .uuid(plan.courses[usize::from(cohort.course)].id)
            .uuid(cohort.id)
            .text(claims.tier.as_str())
            .text(&claims.holder_name)
            .opt_date(claims.holder_birth_date)
            .text(&claims.holder_workplace)
            .text(&claims.course_title)
            .text(&claims.curriculum_version)
            .text(&claims.issuer_name)
            .text(&claims.signer_name)
            .text(&claims.signer_title)
            .date(claims.cohort_starts_on)
            .date(claims.cohort_ends_on)
            .text(&claims.place)
            .date(claims.issued_on)
            .date(claims.valid_until)
            .text(cert.status)
            .opt_text(cert.revocation_reason)
            .opt_instant(cert.revoked_at)
            .opt_uuid(cert.supersedes.map(|s| plan.certificates[s as usize].id))
            .bytes_hex(&bytes)
            .bytes_hex(&signature)
            .text(kid)
            .opt_date(cert.ended_on)
            .end();
        for l in &claims.lineage {
            lineage.uuid(cert.id).uuid(l.certificate_id).end();
        }
    }
}

/// Certificates this many at a time: the next batch is signed while this one is sent.
const CERTIFICATES_PER_BATCH: usize = 20_000;

/// The certificates — master trainers' first, and within each tier those that supersede
/// nothing before the reissues, so every row a certificate refers to is already there — with
/// claims signed by the instance's key; the number of lineage rows written.
pub(super) fn write_certificates(
    conn: &mut PgConnection,
    issuer: &Issuer,
    plan: &Plan,
    bar: &ProgressBar,
) -> Result<usize, AppError> {
    let kid = issuance::register_key(conn, issuer)?;
    let key = issuer.signing_key();
    // master trainers' certificates (and their reissues) before the lineage that names them
    let mut lists = vec![Vec::new(); 4];
    for (c, cert) in plan.certificates.iter().enumerate() {
        let tier2 = plan.cohorts[cert.cohort as usize].course != 0;
        lists[usize::from(tier2) * 2 + usize::from(cert.supersedes.is_some())].push(c);
    }
    let batches: Vec<&[usize]> = lists
        .iter()
        .flat_map(|list| list.chunks(CERTIFICATES_PER_BATCH))
        .collect();
    let mut lineage_rows = 0;
    pipelined(
        |send| {
            for batch in batches {
                let (mut rows, mut lineage) = (Rows::new(), Rows::new());
                certificate_rows(plan, &key, &kid, batch, &mut rows, &mut lineage);
                if send.send((rows, lineage)).is_err() {
                    return;
                }
            }
        },
        |(mut rows, mut lineage): (Rows, Rows)| {
            bar.inc(rows.count as u64);
            lineage_rows += lineage.count;
            copy_certificates(conn, &mut rows)?;
            copy_rows!(
                conn,
                certificate_lineage::table,
                (
                    certificate_lineage::certificate_id,
                    certificate_lineage::master_certificate_id,
                ),
                &mut lineage
            );
            Ok(())
        },
    )?;
    Ok(lineage_rows)
}

fn copy_certificates(conn: &mut PgConnection, rows: &mut Rows) -> QueryResult<usize> {
    Ok(copy_rows!(
        conn,
        certificates::table,
        (
            certificates::id,
            certificates::serial,
            certificates::issuer_id,
            certificates::serial_year,
            certificates::serial_number,
            certificates::verification_code,
            certificates::holder_id,
            certificates::enrollment_id,
            certificates::course_id,
            certificates::cohort_id,
            certificates::tier,
            certificates::holder_name,
            certificates::holder_birth_date,
            certificates::holder_workplace,
            certificates::course_title,
            certificates::curriculum_version,
            certificates::issuer_name,
            certificates::signer_name,
            certificates::signer_title,
            certificates::cohort_starts_on,
            certificates::cohort_ends_on,
            certificates::place,
            certificates::issued_on,
            certificates::valid_until,
            certificates::status,
            certificates::revocation_reason,
            certificates::revoked_at,
            certificates::supersedes_id,
            certificates::claims,
            certificates::signature,
            certificates::kid,
            certificates::ended_on,
        ),
        rows
    ))
}
