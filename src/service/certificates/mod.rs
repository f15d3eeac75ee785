//! Certificates: finding them in the caller's scope, downloading one or a cohort's ZIP,
//! revoking (rule 5: the row stays, with its reason), correcting by a reissue that supersedes,
//! and what a master trainer's certificate reaches downstream.

use chrono::NaiveDate;
use diesel::prelude::*;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::as_actor;
use super::cohorts::{reach_cohort, Access};
use super::privacy;
use crate::auth::current_user::Actor;
use crate::certificates::issuance;
use crate::certificates::Issuer;
use crate::db::certificates as certificate_rows;
use crate::db::schema::{certificates, users};
use crate::db::views::certificates::{views, CertificateList, CertificateRow, CertificateView};
use crate::db::Db;
use crate::domain::access::manages_people;
use crate::error::AppError;

/// Where certificates are verified and what day it is: what building their views needs.
#[derive(Debug, Clone)]
pub struct Viewing {
    pub public_url: String,
    pub today: NaiveDate,
}

/// May this caller see the certificate? Its holder, or staff whose scope covers the holder's
/// organisation or the issuer.
pub(super) fn visible(
    conn: &mut PgConnection,
    actor: &Actor,
    row: &CertificateRow,
) -> Result<bool, AppError> {
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

pub(super) fn reach_certificate(
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
                    "Trạng thái phải là valid (còn hiệu lực), expired (đã hết hạn), revoked \
                     (đã thu hồi) hoặc superseded (đã được thay thế).",
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

impl CertificateSearch {
    /// The filters of an export as its audit event records them: ids, dates and status as
    /// asked, and only whether words were searched for (they may be a person's name).
    fn audit_filters(&self) -> serde_json::Value {
        serde_json::json!({
            "q": self.q.as_deref().is_some_and(|q| !q.trim().is_empty()),
            "user_id": self.user_id,
            "cohort_id": self.cohort_id,
            "status": self.status,
            "issued_from": self.issued_from,
            "issued_to": self.issued_to,
        })
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
        let (file, format_name) = match format {
            ReportFormat::Xlsx => (
                Export::File {
                    bytes: crate::reports::certificates::to_xlsx(&list)?,
                    file_name: format!("{stem}.xlsx"),
                    content_type:
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                },
                "xlsx",
            ),
            _ => (
                Export::File {
                    bytes: crate::reports::certificates::to_csv(&list)?,
                    file_name: format!("{stem}.csv"),
                    content_type: "text/csv; charset=utf-8",
                },
                "csv",
            ),
        };
        // a list of people leaves the system: one read event for the whole list, written
        // once the file is made (a failure to record fails the export)
        privacy::record_people_export(
            conn,
            &actor,
            privacy::PeopleExport {
                list: "certificates",
                format: format_name,
                filters: q.audit_filters(),
                rows: list.len(),
                only_person: q.user_id,
            },
        )?;
        Ok(file)
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
        conn.transaction(|conn| {
            let row = reach_certificate(conn, &actor, id)?;
            let bytes = issuance::store_digest(conn, &issuer, row.id)?;
            // someone other than the holder saw it: a read of the holder's data
            privacy::record_certificate_download(conn, &actor, row.id, row.holder_id, &row.serial)?;
            Ok((row.serial, bytes))
        })
    })
    .await
}

/// Every certificate of a cohort as one ZIP of PDFs (staff whose scope holds the organiser),
/// produced while it is sent: see [`CertificatesZip`]. Who may download it, and that the cohort
/// exists, is settled before the first byte, and so is the first batch of certificates, so that
/// those errors still answer with the JSON error body.
pub async fn cohort_certificates_zip(
    db: &Db,
    actor: &Actor,
    issuer: Issuer,
    id: Uuid,
) -> Result<CertificatesZip, AppError> {
    let listed = as_actor(
        db,
        actor,
        "download_cohort_certificates",
        move |conn, actor| {
            let cohort = reach_cohort(conn, actor, id, Access::Read)?;
            // staff whose scope holds the organiser (an administrator's holds everything)
            if !(manages_people(&actor.roles)
                && actor.scope.covers_organization(cohort.organization_id))
            {
                return Err(AppError::Forbidden);
            }
            conn.transaction(|conn| {
                let listed = certificate_rows::of_cohort(conn, id)?;
                // every certificate in it is a read of its holder's data, recorded before the
                // first byte leaves
                privacy::record_cohort_download(conn, actor, id, &listed)?;
                Ok(listed)
            })
        },
    )
    .await?;
    let (tx, mut rest) = mpsc::channel(zip_stream::CHUNKS_IN_FLIGHT);
    let db = db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        zip_stream::produce(&db, &issuer, id, &listed, tx);
    });
    match rest.recv().await {
        Some(Ok(first)) => Ok(CertificatesZip {
            first: Some(first),
            rest,
        }),
        Some(Err(e)) => Err(e),
        None => Err(AppError::internal(
            "the cohort ZIP stopped before its first chunk",
        )),
    }
}

/// A cohort's certificates ZIP as a stream of chunks, produced by a blocking task that renders
/// a small batch of certificates at a time (on every core) and writes each as a stored entry
/// (PDFs are compressed already). The channel between them is bounded, so a slow client slows
/// the rendering down instead of letting the ZIP pile up: memory holds a batch of PDFs and a
/// few chunks, whatever the size of the cohort (and, as any ZIP writer must, one directory
/// line per entry until the end). An error after the first chunk ends the stream with it: the
/// client sees a broken transfer, never a short ZIP that looks whole.
pub struct CertificatesZip {
    first: Option<Vec<u8>>,
    rest: mpsc::Receiver<Result<Vec<u8>, AppError>>,
}

impl futures_util::Stream for CertificatesZip {
    type Item = Result<Vec<u8>, AppError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(first)));
        }
        self.rest.poll_recv(cx)
    }
}

mod corrections;
mod downstream;
mod zip_stream;

pub use corrections::{reissue, reissue_certificate, revoke, revoke_certificate};
pub use downstream::downstream;
