//! Personal data at rest: the data key of `CASCADE_DATA_KEY_FILE`, which seals the CCCD and
//! keys its blind index, and the file steps of rotating it.

pub mod data_key;

use std::path::{Path, PathBuf};

pub use data_key::{DataKey, KeyId, SealError};

/// Where the previous key waits while a rotation is under way: `<file>.old`.
pub fn previous_key_path(path: &Path) -> PathBuf {
    let mut old = path.as_os_str().to_owned();
    old.push(".old");
    PathBuf::from(old)
}

fn read_key(path: &Path) -> Result<DataKey, String> {
    let secret = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    DataKey::from_secret(&secret).map_err(|e| format!("{}: {e}", path.display()))
}

/// The data key of `path`, generated (32 random bytes, mode 0600) when the file does not exist
/// yet. Refused while a rotation has not finished (`<file>.old` exists): the database may hold
/// values under either key until `cascade rotate-data-key` is run again.
pub fn load_data_key(path: &Path) -> Result<DataKey, String> {
    let old = previous_key_path(path);
    if old.exists() {
        return Err(format!(
            "{} exists: a rotation of the data key did not finish; run `cascade rotate-data-key` \
             again before starting Cascade",
            old.display()
        ));
    }
    let secret = crate::secrets::load_or_create(path, data_key::SECRET_LEN)?;
    DataKey::from_secret(&secret).map_err(|e| format!("{}: {e}", path.display()))
}

/// A rotation under way: the key values are sealed under now (`from`) and the one they move to
/// (`to`), which the key file already holds.
///
/// The order makes every crash recoverable with nothing lost:
/// 1. the current key is copied to `<file>.old` (flushed) — from here on Cascade refuses to
///    start until the rotation finishes;
/// 2. a new key is written beside the file and renamed over it (flushed);
/// 3. the caller re-seals every value and recomputes every blind index in one transaction,
///    opening each value with whichever of the two keys sealed it;
/// 4. after the commit, [`KeyRotation::finish`] removes `<file>.old`.
///
/// Run again after a crash, [`KeyRotation::begin`] finds `<file>.old` and resumes with the same
/// two keys (or, if the crash came before step 2, makes the new key then).
pub struct KeyRotation {
    path: PathBuf,
    pub from: DataKey,
    pub to: DataKey,
}

impl KeyRotation {
    pub fn begin(path: &Path) -> Result<Self, String> {
        let old_path = previous_key_path(path);
        if !old_path.exists() {
            let current = std::fs::read(path)
                .map_err(|e| format!("cannot read the data key {}: {e}", path.display()))?;
            DataKey::from_secret(&current).map_err(|e| format!("{}: {e}", path.display()))?;
            crate::secrets::write_new(&old_path, &current)?;
            crate::secrets::sync_folder_of(&old_path)?;
        }
        let from = read_key(&old_path)?;
        let mut to = read_key(path)?;
        if to.id() == from.id() {
            let secret = from.rotated_secret();
            crate::secrets::replace(path, &secret)?;
            to = DataKey::from_secret(&secret)?;
        }
        Ok(KeyRotation {
            path: path.to_path_buf(),
            from,
            to,
        })
    }

    /// The key that opens a value sealed under either side of the rotation.
    pub fn key_for(&self, sealed: &[u8]) -> Option<&DataKey> {
        let id = DataKey::sealed_by(sealed)?;
        [&self.to, &self.from].into_iter().find(|k| k.id() == id)
    }

    /// After the re-sealing committed: the old key goes.
    pub fn finish(self) -> Result<(), String> {
        let old_path = previous_key_path(&self.path);
        std::fs::remove_file(&old_path)
            .map_err(|e| format!("cannot remove {}: {e}", old_path.display()))?;
        crate::secrets::sync_folder_of(&old_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_resumed_after_a_crash_keeps_both_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data-key");
        let first = load_data_key(&path).unwrap();
        let sealed = first.seal_national_id("001185012345");

        let rotation = KeyRotation::begin(&path).unwrap();
        assert_eq!(rotation.from.id(), first.id());
        assert_ne!(rotation.to.id(), first.id());
        // a crash here: Cascade refuses to start, and a second run resumes with the same keys
        assert!(load_data_key(&path).is_err());
        let to = rotation.to.id();
        drop(rotation);
        let resumed = KeyRotation::begin(&path).unwrap();
        assert_eq!((resumed.from.id(), resumed.to.id()), (first.id(), to));
        assert_eq!(resumed.key_for(&sealed).map(DataKey::id), Some(first.id()));
        resumed.finish().unwrap();
        assert_eq!(load_data_key(&path).unwrap().id(), to);
        assert!(!previous_key_path(&path).exists());
    }

    #[test]
    fn a_rotation_that_crashed_before_the_new_key_makes_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data-key");
        let first = load_data_key(&path).unwrap();
        std::fs::copy(&path, previous_key_path(&path)).unwrap();
        let rotation = KeyRotation::begin(&path).unwrap();
        assert_eq!(rotation.from.id(), first.id());
        assert_ne!(rotation.to.id(), first.id());
    }
}
