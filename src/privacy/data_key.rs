//! The data key: seals a personal value (XChaCha20-Poly1305, a fresh random nonce each time, the
//! key's id in the sealed bytes) and computes its keyed blind index (HMAC-SHA-256), so a value is
//! unique and found by exact match without being stored in clear.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Bytes of secret a key file holds at least.
pub const SECRET_LEN: usize = 32;

/// The layout of sealed bytes: version, key id, nonce, then ciphertext and tag.
const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

// Each use of the secret gets its own key, derived with a label of its own: the blind index
// never shares a key with the cipher, and the key id reveals nothing of either.
const CIPHER_LABEL: &[u8] = b"cascade data key v1: seal personal values";
const INDEX_LABEL: &[u8] = b"cascade data key v1: blind index";
const ID_LABEL: &[u8] = b"cascade data key v1: key id";
const LASTING_LABEL: &[u8] = b"cascade data key v1: lasting secret";
const USERNAME_LABEL: &[u8] = b"cascade data key v1: retired usernames";

/// Binds sealed bytes to their purpose: a sealed CCCD does not open as anything else.
const NATIONAL_ID_CONTEXT: &[u8] = b"users.national_id";

type HmacSha256 = Hmac<Sha256>;

/// Why sealed bytes did not open. No variant carries the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is not in a format Cascade wrote")]
    Malformed,
    #[error("the value is sealed under another data key (id {0})")]
    OtherKey(KeyId),
    #[error("the sealed value does not authenticate under this data key")]
    Tampered,
}

/// The public name of a data key, stored with every value it seals.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The key that protects personal values at rest, derived from the secret of
/// `CASCADE_DATA_KEY_FILE`.
#[derive(Clone)]
pub struct DataKey {
    id: KeyId,
    cipher: [u8; 32],
    index: [u8; 32],
    /// The secret that outlives rotations: what keeps a retired username's hash comparable
    /// after the key that sealed CCCDs changed (the username itself is gone, so its hash can
    /// never be recomputed under a new key).
    lasting: [u8; 32],
    username: [u8; 32],
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // never the key material
        f.debug_struct("DataKey").field("id", &self.id).finish()
    }
}

fn derive(secret: &[u8], label: &[u8]) -> [u8; 32] {
    // HMAC accepts a key of any length, so this cannot fail
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl DataKey {
    /// The key of a secret of at least [`SECRET_LEN`] bytes.
    ///
    /// A key file written by a rotation holds two secrets, [`SECRET_LEN`] bytes each: the
    /// rotating one (sealing, the CCCD's blind index, the key id) and the lasting one (retired
    /// usernames' hashes). A file of one secret (as first generated) derives its lasting secret
    /// from it one way, so the file a rotation writes does not hold the old rotating secret.
    pub fn from_secret(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < SECRET_LEN {
            return Err(format!(
                "a data key needs at least {SECRET_LEN} bytes of secret; this one has {}",
                secret.len()
            ));
        }
        let (rotating, lasting) = if secret.len() >= 2 * SECRET_LEN {
            let mut lasting = [0u8; 32];
            lasting.copy_from_slice(&secret[SECRET_LEN..2 * SECRET_LEN]);
            (&secret[..SECRET_LEN], lasting)
        } else {
            (secret, derive(secret, LASTING_LABEL))
        };
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&derive(rotating, ID_LABEL)[..KEY_ID_LEN]);
        Ok(DataKey {
            id: KeyId(id),
            cipher: derive(rotating, CIPHER_LABEL),
            index: derive(rotating, INDEX_LABEL),
            username: derive(&lasting, USERNAME_LABEL),
            lasting,
        })
    }

    /// The secret of the key that replaces this one in a rotation: a fresh rotating secret,
    /// and this key's lasting secret carried over.
    pub fn rotated_secret(&self) -> Vec<u8> {
        let mut secret = Self::new_secret();
        secret.extend_from_slice(&self.lasting);
        secret
    }

    /// The keyed hash a retired person's username is kept as: equal (trimmed, lower-case) names
    /// give equal hashes under every key of a rotation chain, and without the key file a hash
    /// does not say which name it was.
    pub fn retired_username_index(&self, username: &str) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.username)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(username.trim().to_lowercase().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A fresh random secret for a new key.
    pub fn new_secret() -> Vec<u8> {
        let mut secret = vec![0u8; SECRET_LEN];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        secret
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Seals a CCCD: the bytes to store in `users.national_id_cipher`.
    pub fn seal_national_id(&self, national_id: &str) -> Vec<u8> {
        self.seal(NATIONAL_ID_CONTEXT, national_id.as_bytes())
    }

    /// Opens what [`Self::seal_national_id`] sealed.
    pub fn open_national_id(&self, sealed: &[u8]) -> Result<String, SealError> {
        let plain = self.open(NATIONAL_ID_CONTEXT, sealed)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }

    /// The keyed blind index of a CCCD: equal numbers give equal indexes under one key, and
    /// without the key an index tells nothing (the 10¹² possible numbers cannot be tried).
    pub fn national_id_index(&self, national_id: &str) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.index)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(NATIONAL_ID_CONTEXT);
        mac.update(b"\0");
        mac.update(national_id.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The id of the key that sealed these bytes, if they are sealed bytes at all.
    pub fn sealed_by(sealed: &[u8]) -> Option<KeyId> {
        if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != VERSION {
            return None;
        }
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&sealed[1..1 + KEY_ID_LEN]);
        Some(KeyId(id))
    }

    fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&nonce);
        let aad = [context, &out[..1 + KEY_ID_LEN]].concat();
        let cipher = XChaCha20Poly1305::new((&self.cipher).into());
        // encryption fails only for a plaintext beyond 256 GiB
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("a personal value is far below the AEAD's limit"));
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let id = Self::sealed_by(sealed).ok_or(SealError::Malformed)?;
        if id != self.id {
            return Err(SealError::OtherKey(id));
        }
        let aad = [context, &sealed[..1 + KEY_ID_LEN]].concat();
        let nonce: [u8; NONCE_LEN] = sealed[1 + KEY_ID_LEN..HEADER_LEN]
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let cipher = XChaCha20Poly1305::new((&self.cipher).into());
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CCCD: &str = "001185012345";

    fn key() -> DataKey {
        DataKey::from_secret(&DataKey::new_secret()).unwrap()
    }

    #[test]
    fn a_sealed_national_id_opens_to_itself() {
        let key = key();
        let sealed = key.seal_national_id(CCCD);
        assert_eq!(key.open_national_id(&sealed).unwrap(), CCCD);
        assert!(!sealed.windows(CCCD.len()).any(|w| w == CCCD.as_bytes()));
        assert_eq!(DataKey::sealed_by(&sealed), Some(key.id()));
    }

    #[test]
    fn another_key_does_not_open_it() {
        let sealed = key().seal_national_id(CCCD);
        let other = key();
        assert!(matches!(
            other.open_national_id(&sealed),
            Err(SealError::OtherKey(_))
        ));
        // the same key id with other key material (a forged header) fails authentication
        let mut forged = other.seal_national_id(CCCD);
        forged[HEADER_LEN] ^= 1;
        assert_eq!(other.open_national_id(&forged), Err(SealError::Tampered));
        assert_eq!(
            other.open_national_id(&[1, 2, 3]),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn every_sealing_uses_a_fresh_nonce() {
        let key = key();
        let a = key.seal_national_id(CCCD);
        let b = key.seal_national_id(CCCD);
        assert_ne!(a, b);
        assert_ne!(a[1 + KEY_ID_LEN..HEADER_LEN], b[1 + KEY_ID_LEN..HEADER_LEN]);
    }

    #[test]
    fn the_blind_index_is_stable_and_keyed() {
        let secret = DataKey::new_secret();
        let key = DataKey::from_secret(&secret).unwrap();
        let again = DataKey::from_secret(&secret).unwrap();
        assert_eq!(key.id(), again.id());
        assert_eq!(key.national_id_index(CCCD), again.national_id_index(CCCD));
        assert_ne!(
            key.national_id_index(CCCD),
            key.national_id_index("001185012346")
        );
        assert_ne!(
            key.national_id_index(CCCD),
            self::key().national_id_index(CCCD)
        );
        assert_eq!(key.national_id_index(CCCD).len(), 32);
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(DataKey::from_secret(&[7u8; SECRET_LEN - 1]).is_err());
    }

    #[test]
    fn a_retired_usernames_hash_outlives_rotations_but_the_sealing_key_does_not() {
        let first = key();
        let second = DataKey::from_secret(&first.rotated_secret()).unwrap();
        let third = DataKey::from_secret(&second.rotated_secret()).unwrap();
        assert_ne!(first.id(), second.id());
        assert_ne!(second.id(), third.id());
        let hash = first.retired_username_index("Hang.NT ");
        assert_eq!(hash, third.retired_username_index("hang.nt"));
        assert_ne!(hash, third.retired_username_index("hang.nt2"));
        // the rotated file does not carry the old rotating secret
        assert!(second
            .open_national_id(&first.seal_national_id(CCCD))
            .is_err());
        assert_ne!(
            first.national_id_index(CCCD),
            second.national_id_index(CCCD)
        );
        let other = DataKey::from_secret(&[9u8; SECRET_LEN]).unwrap();
        assert_ne!(hash, other.retired_username_index("hang.nt"));
    }

    #[test]
    fn debug_shows_only_the_key_id() {
        let key = key();
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("DataKey {{ id: KeyId({}) }}", key.id()));
    }
}
