//! Secret files (the JWT key, the certificate signing key): read when configured, otherwise
//! generated once into the data directory with owner-only permissions and reused after.

use std::fs;
use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// Reads `path`, or creates it with `len` random bytes (mode 0600) when it does not exist yet.
/// A file shorter than `len` bytes is refused: a truncated key must never sign anything.
pub fn load_or_create(path: &Path, len: usize) -> Result<Vec<u8>, String> {
    match fs::read(path) {
        Ok(bytes) if bytes.len() >= len => Ok(bytes),
        Ok(bytes) => Err(format!(
            "{} holds {} bytes; at least {len} are needed",
            path.display(),
            bytes.len()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, len),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn create(path: &Path, len: usize) -> Result<Vec<u8>, String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut bytes = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(&bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret");
        let first = load_or_create(&path, 32).unwrap();
        let second = load_or_create(&path, 32).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn short_secret_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(&path, b"short").unwrap();
        assert!(load_or_create(&path, 32).is_err());
    }
}
