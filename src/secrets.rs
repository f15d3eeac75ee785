//! Secret files (the JWT key, the certificate signing key, the data key): read when configured, otherwise
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
    write_new(path, &bytes)?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(bytes)
}

/// Writes `bytes` to a file that must not exist yet, readable by its owner only, and flushes
/// it to disk before answering.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
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
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Replaces the file at `path` with `bytes` (mode 0600) in one step: the new content is written
/// beside it, flushed, then renamed over it, so a crash leaves the old file or the new one,
/// never a torn one.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut staged = path.as_os_str().to_owned();
    staged.push(".new");
    let staged = std::path::PathBuf::from(staged);
    // a leftover of an earlier crash holds nothing anyone relies on
    match fs::remove_file(&staged) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", staged.display())),
    }
    write_new(&staged, bytes)?;
    fs::rename(&staged, path).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            staged.display(),
            path.display()
        )
    })?;
    sync_folder_of(path)
}

/// Flushes the folder holding `path`, so a rename or removal in it survives a crash.
pub fn sync_folder_of(path: &Path) -> Result<(), String> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot flush {}: {e}", folder.display()))
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
    fn a_replaced_secret_is_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        load_or_create(&path, 32).unwrap();
        replace(&path, &[9u8; 32]).unwrap();
        assert_eq!(fs::read(&path).unwrap(), vec![9u8; 32]);
        assert!(!dir.path().join("secret.new").exists());
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
