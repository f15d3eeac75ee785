//! Certificate rows: the one insert that every certificate, issued or built by a test, goes
//! through (one by one or a cohort at once), their lineage, and the stored claims their PDFs are
//! rendered from.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::certificates;

/// A certificate as stored when it is issued: the signed claims, and the columns copied out of
/// them so that queries need not parse the claims. The status is left to the column's default
/// (`valid`); revoking and correcting change it later.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = certificates)]
#[diesel(check_for_backend(diesel::pg::Pg))]
// a `None` is a NULL, as the columns say, not whatever default a column might gain later
#[diesel(treat_none_as_default_value = false)]
pub struct NewCertificateRow<'a> {
    pub id: Uuid,
    pub serial: &'a str,
    pub issuer_id: Uuid,
    pub serial_year: i32,
    pub serial_number: i32,
    pub verification_code: &'a str,
    pub holder_id: Uuid,
    pub enrollment_id: Option<Uuid>,
    pub course_id: Uuid,
    pub cohort_id: Option<Uuid>,
    pub tier: &'a str,
    pub holder_name: &'a str,
    pub holder_birth_date: Option<NaiveDate>,
    pub holder_workplace: &'a str,
    pub course_title: &'a str,
    pub curriculum_version: &'a str,
    pub issuer_name: &'a str,
    pub signer_name: &'a str,
    pub signer_title: &'a str,
    pub cohort_starts_on: NaiveDate,
    pub cohort_ends_on: NaiveDate,
    pub place: &'a str,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub supersedes_id: Option<Uuid>,
    pub claims: &'a [u8],
    pub signature: &'a [u8],
    pub kid: &'a str,
}

/// Inserts one certificate; its id.
pub fn insert(conn: &mut PgConnection, row: &NewCertificateRow<'_>) -> QueryResult<Uuid> {
    diesel::insert_into(certificates::table)
        .values(row)
        .returning(certificates::id)
        .get_result(conn)
}

/// Most certificates in one INSERT: PostgreSQL takes at most 65,535 bound values a statement,
/// and a certificate binds 28.
const ROWS_PER_INSERT: usize = 1_000;

/// Inserts many certificates, a thousand a statement (all in the caller's transaction).
pub fn insert_many(conn: &mut PgConnection, rows: &[NewCertificateRow<'_>]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        diesel::insert_into(certificates::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}

/// Records the lineage of new certificates: (certificate, master-trainer certificate) pairs.
pub fn insert_lineage(conn: &mut PgConnection, links: &[(Uuid, Uuid)]) -> QueryResult<()> {
    use super::schema::certificate_lineage as lineage;
    // two values a link: far below the limit on bound values
    for chunk in links.chunks(10 * ROWS_PER_INSERT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(certificate, master)| {
                (
                    lineage::certificate_id.eq(*certificate),
                    lineage::master_certificate_id.eq(*master),
                )
            })
            .collect();
        diesel::insert_into(lineage::table)
            .values(values)
            .execute(conn)?;
    }
    Ok(())
}

/// What a certificate prints of its holder, as the person's record says now.
#[derive(Debug, Clone)]
pub struct HolderFacts {
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    /// The name of the person's organisation.
    pub workplace: String,
}

/// The holder facts of these people, in one query.
pub fn holders(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, HolderFacts>> {
    use super::schema::{organizations, users};
    let rows: Vec<(Uuid, String, Option<NaiveDate>, String)> = users::table
        .inner_join(organizations::table)
        .filter(users::id.eq_any(ids))
        .select((
            users::id,
            users::full_name,
            users::date_of_birth,
            organizations::name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, full_name, date_of_birth, workplace)| {
            (
                id,
                HolderFacts {
                    full_name,
                    date_of_birth,
                    workplace,
                },
            )
        })
        .collect())
}

/// A certificate's signed claims as stored: all that its PDF is rendered from.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = certificates)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct StoredClaims {
    pub id: Uuid,
    pub serial: String,
    pub claims: Vec<u8>,
    pub signature: Vec<u8>,
    pub kid: String,
}

/// The stored claims of these certificates, in no particular order.
pub fn stored_claims(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<StoredClaims>> {
    certificates::table
        .filter(certificates::id.eq_any(ids))
        .select(StoredClaims::as_select())
        .load(conn)
}

/// Of these certificates, the stored claims of those whose PDF digest is not recorded yet.
pub fn stored_claims_without_digest(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<StoredClaims>> {
    certificates::table
        .filter(certificates::id.eq_any(ids))
        .filter(certificates::pdf_sha256.is_null())
        .select(StoredClaims::as_select())
        .load(conn)
}

/// Records the SHA-256 of certificates' PDFs, in one statement, where none is recorded yet (a
/// recorded digest never changes).
pub fn record_digests(conn: &mut PgConnection, digests: &[(Uuid, [u8; 32])]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Bytea, Uuid as SqlUuid};
    if digests.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = digests.iter().map(|(id, _)| *id).collect();
    let shas: Vec<Vec<u8>> = digests.iter().map(|(_, sha)| sha.to_vec()).collect();
    diesel::sql_query(
        "UPDATE certificates c SET pdf_sha256 = v.sha \
         FROM unnest($1, $2) AS v (id, sha) \
         WHERE c.id = v.id AND c.pdf_sha256 IS NULL",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Bytea>, _>(shas)
    .execute(conn)?;
    Ok(())
}

/// The certificates of a cohort, by serial: (id, serial).
pub fn of_cohort(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<Vec<(Uuid, String)>> {
    certificates::table
        .filter(certificates::cohort_id.eq(cohort_id))
        .order(certificates::serial.asc())
        .select((certificates::id, certificates::serial))
        .load(conn)
}

/// Up to `limit` certificates whose PDF digest is not recorded, with ids after `after`, by id.
pub fn without_digest(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    let mut query = certificates::table
        .filter(certificates::pdf_sha256.is_null())
        .select(certificates::id)
        .order(certificates::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(certificates::id.gt(after));
    }
    query.load(conn)
}
