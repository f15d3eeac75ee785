//! Access tokens (short JWTs, one pinned algorithm, every claim required and checked) and refresh
//! tokens (random, stored only as SHA-256, rotated on every use).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;

pub const ISSUER: &str = "cascade";
pub const AUDIENCE: &str = "cascade-api";
/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 14 days unless rotated.
pub const REFRESH_TTL_DAYS: i64 = 14;
/// Clock skew tolerated between servers.
const LEEWAY_SECS: u64 = 5;
const ALGORITHM: Algorithm = Algorithm::HS256;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user's id.
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// The user's token version when issued; bumped by logout, password change, deactivation.
    pub ver: i32,
    /// Always "access": nothing else is accepted as an access token.
    pub typ: String,
    /// The login session this token belongs to.
    pub sid: String,
}

pub fn issue_access_token(
    secret: &[u8],
    user_id: Uuid,
    token_version: i32,
    session_id: Uuid,
) -> Result<String, AppError> {
    let now = Utc::now().timestamp();
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: user_id.to_string(),
        iat: now,
        nbf: now,
        exp: now + ACCESS_TTL_SECS,
        jti: Uuid::new_v4().to_string(),
        ver: token_version,
        typ: "access".into(),
        sid: session_id.to_string(),
    };
    encode(
        &Header::new(ALGORITHM),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(AppError::internal)
}

/// What a valid access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: Uuid,
    pub token_version: i32,
    pub session_id: Uuid,
}

/// Checks signature, algorithm, issuer, audience, time window and shape. Every failure is the
/// same 401.
pub fn verify_access_token(secret: &[u8], token: &str) -> Result<VerifiedToken, AppError> {
    let mut validation = Validation::new(ALGORITHM);
    validation.algorithms = vec![ALGORITHM];
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    let data = decode::<AccessClaims>(token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|_| AppError::Unauthenticated)?;
    let claims = data.claims;
    if claims.typ != "access" || claims.iat > Utc::now().timestamp() + LEEWAY_SECS as i64 {
        return Err(AppError::Unauthenticated);
    }
    let user_id = Uuid::parse_str(&claims.sub).map_err(|_| AppError::Unauthenticated)?;
    let session_id = Uuid::parse_str(&claims.sid).map_err(|_| AppError::Unauthenticated)?;
    Ok(VerifiedToken {
        user_id,
        token_version: claims.ver,
        session_id,
    })
}

/// A new refresh token: what the client keeps, and the digest we store.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("rt_{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = refresh_token_digest(&token);
    (token, digest)
}

pub fn refresh_token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn issued_token_verifies() {
        let (id, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let token = issue_access_token(SECRET, id, 3, sid).unwrap();
        let v = verify_access_token(SECRET, &token).unwrap();
        assert_eq!((v.user_id, v.token_version, v.session_id), (id, 3, sid));
    }

    #[test]
    fn token_signed_with_another_key_is_rejected() {
        let token = issue_access_token(
            b"another secret of enough length......",
            Uuid::new_v4(),
            0,
            Uuid::new_v4(),
        )
        .unwrap();
        assert!(verify_access_token(SECRET, &token).is_err());
    }

    #[test]
    fn refresh_token_is_not_an_access_token() {
        let (token, digest) = new_refresh_token();
        assert_eq!(digest.len(), 32);
        assert!(verify_access_token(SECRET, &token).is_err());
    }
}
