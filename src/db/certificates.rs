//! Certificate rows: the one insert that every certificate, issued or built by a test, goes through.

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
