//! Public verification: what anyone sees of a certificate by its code, and the keys its
//! signature verifies against.

use chrono::NaiveDate;

use crate::db::views::certificates::{self as views, PublicKey, Verification};
use crate::db::{reads, Db};
use crate::error::AppError;

/// A certificate by its verification code, with its lineage up to the state agency: only what a
/// verifier needs (404 for an unknown code).
pub async fn verify(db: &Db, code: String, today: NaiveDate) -> Result<Verification, AppError> {
    let mut conn = db.read().await?;
    reads::verification(&mut conn, &code, today).await
}

/// The published signing keys.
pub async fn public_keys(db: &Db) -> Result<Vec<PublicKey>, AppError> {
    db.run(|conn| Ok(views::public_keys(conn)?)).await
}
