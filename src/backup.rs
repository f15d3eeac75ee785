//! `cascade backup` and `cascade restore`: one file holding a `pg_dump --format=custom` of the
//! database, the two keys a restore cannot do without, and a manifest with the SHA-256 of each
//! part.
//!
//! The file is a ZIP (stored, not compressed: the custom dump is compressed already) written
//! with mode 0600 beside its final name and renamed into place once flushed, so a crash never
//! leaves a half backup under the final name:
//!
//! - `manifest.json`: format, Cascade version, schema migration version, date, and for every
//!   other entry its name, size and SHA-256; also the SHA-256 of each key, so that keys stored
//!   apart (`--keys-to`) are checked against the backup they belong to;
//! - `database.pgdump`: the dump;
//! - `keys/signing-key`: the certificate signing key (`CASCADE_SIGNING_KEY_FILE`); the
//!   certificates verify without it (their public keys are in the database), but no new one
//!   could be issued under the same key;
//! - `keys/data-key`: the data key (`CASCADE_DATA_KEY_FILE`) that seals the CCCDs: without it
//!   the sealed numbers never open again.
//!
//! The JWT secret is left out on purpose: access tokens live 15 minutes and refresh tokens are
//! stored (hashed) in the database, so a restore that makes a new secret costs at most one token
//! renewal, while a secret in a backup would let whoever holds the file sign in as anyone.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diesel::{Connection, PgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// The manifest's `format` of a backup file.
pub const BACKUP_FORMAT: &str = "cascade-backup/1";
/// The manifest's `format` of a keys file written by `--keys-to`.
pub const KEYS_FORMAT: &str = "cascade-keys/1";

const MANIFEST: &str = "manifest.json";
const DUMP: &str = "database.pgdump";
const SIGNING_KEY: &str = "keys/signing-key";
const DATA_KEY: &str = "keys/data-key";
/// A key file is tens of bytes, a manifest a few hundred: anything far larger is not ours.
const SMALL_ENTRY_LIMIT: u64 = 1 << 20;

/// What went wrong, in Vietnamese for the person at the terminal; the details the operator needs
/// (a tool's own message, a path) follow in the original words.
#[derive(Debug)]
pub enum BackupError {
    /// pg_dump or pg_restore cannot be found.
    ToolMissing(String),
    /// pg_dump or pg_restore ran and failed; `detail` is its exit status and stderr.
    Tool {
        program: String,
        detail: String,
    },
    Database(String),
    /// The target database already holds tables and `--force` was not given.
    NotEmpty {
        relations: i64,
    },
    /// The file is not a backup, or a part does not match its recorded SHA-256.
    Corrupt(String),
    /// The backup was made by a Cascade whose schema this one does not know.
    SchemaTooNew {
        backup: String,
        known: String,
    },
    /// The keys are missing, do not belong to this backup, or differ from the keys in place.
    Keys(String),
    Io(String),
}

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupError::ToolMissing(looked) => write!(
                f,
                "Không tìm thấy chương trình của PostgreSQL cần cho việc sao lưu hoặc khôi phục \
                 (pg_dump, pg_restore); hãy cài gói `postgresql-client` đúng phiên bản máy chủ. \
                 Chi tiết: {looked}"
            ),
            BackupError::Tool { program, detail } => {
                write!(f, "Chương trình `{program}` báo lỗi. Chi tiết: {detail}")
            }
            BackupError::Database(detail) => {
                write!(
                    f,
                    "Không làm việc được với cơ sở dữ liệu. Chi tiết: {detail}"
                )
            }
            BackupError::NotEmpty { relations } => write!(
                f,
                "Cơ sở dữ liệu đích đã có dữ liệu ({relations} bảng, dãy số hoặc khung nhìn); \
                 khôi phục sẽ xóa hết chúng. Thêm --force nếu thật sự muốn ghi đè."
            ),
            BackupError::Corrupt(detail) => write!(
                f,
                "Tệp sao lưu không dùng được: hỏng, bị sửa hoặc không phải tệp sao lưu của \
                 Cascade. Chi tiết: {detail}"
            ),
            BackupError::SchemaTooNew { backup, known } => write!(
                f,
                "Bản sao lưu được tạo bởi phiên bản Cascade mới hơn (lược đồ {backup}, phiên bản \
                 này chỉ biết đến {known}); hãy khôi phục bằng phiên bản Cascade mới hơn."
            ),
            BackupError::Keys(detail) => write!(f, "Khóa bí mật: {detail}"),
            BackupError::Io(detail) => write!(f, "Lỗi đọc hoặc ghi tệp. Chi tiết: {detail}"),
        }
    }
}

impl std::error::Error for BackupError {}

impl From<BackupError> for String {
    fn from(e: BackupError) -> String {
        e.to_string()
    }
}

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> BackupError {
    BackupError::Io(format!("{what} {}: {e}", path.display()))
}

/// Where the keys go when backing up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeysPlacement {
    /// In the backup file: it restores on its own (the default).
    #[default]
    Included,
    /// In a keys file of their own, to be stored apart from the database dumps.
    Apart(PathBuf),
    /// Nowhere: the operator keeps the key files by other means.
    Left,
}

/// One entry of a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What `manifest.json` says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub cascade_version: String,
    /// The newest applied migration, as diesel records it (`__diesel_schema_migrations`);
    /// empty in a keys file.
    #[serde(default)]
    pub schema_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `included`, `apart` or `left` (backup files only).
    #[serde(default)]
    pub keys: String,
    /// SHA-256 of the signing key and of the data key, wherever the keys are kept.
    #[serde(default)]
    pub key_sha256: KeyDigests,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyDigests {
    pub signing_key: String,
    pub data_key: String,
}

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub manifest: Manifest,
    /// The keys file, when the keys were written apart.
    pub keys_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Restore over a database that holds tables, and replace differing key files.
    pub force: bool,
    /// The keys file of a backup made with `--keys-to`.
    pub keys_from: Option<PathBuf>,
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// Key files written (or replaced); those already in place with the same bytes are not listed.
    pub keys_written: Vec<PathBuf>,
    /// Migrations newer than the backup that ran after it.
    pub migrations_applied: usize,
}

/// The certificate signing key's file, as `certificates::Issuer::from_config` reads it.
pub fn signing_key_path(config: &Config) -> PathBuf {
    config
        .signing_key_file
        .clone()
        .unwrap_or_else(|| config.data_path("signing-key"))
}

/// Writes the backup of the database at `database_url` and of the configured keys to `file`
/// (which must not exist yet).
pub fn backup(
    config: &Config,
    database_url: &str,
    file: &Path,
    keys: &KeysPlacement,
) -> Result<BackupReport, BackupError> {
    refuse_existing(file)?;
    if let KeysPlacement::Apart(keys_file) = keys {
        refuse_existing(keys_file)?;
    }
    // the keys first: a backup that could not carry them is not worth a dump
    let data_key_path = config.data_key_path();
    if crate::privacy::previous_key_path(&data_key_path).exists() {
        return Err(BackupError::Keys(format!(
            "một lần đổi khóa dữ liệu chưa xong ({} còn đó); chạy lại \
             `cascade rotate-data-key` rồi mới sao lưu",
            crate::privacy::previous_key_path(&data_key_path).display()
        )));
    }
    let signing_key = read_key(&signing_key_path(config), 32)?;
    let data_key = read_key(&data_key_path, crate::privacy::data_key::SECRET_LEN)?;
    let key_sha256 = KeyDigests {
        signing_key: hex_sha256(&signing_key),
        data_key: hex_sha256(&data_key),
    };

    let schema_version = {
        let mut conn = connect(database_url)?;
        applied_schema_version(&mut conn)?.ok_or_else(|| {
            BackupError::Database(
                "cơ sở dữ liệu chưa có lược đồ của Cascade (chưa chạy `cascade migrate`): \
                 không có gì để sao lưu"
                    .into(),
            )
        })?
    };

    let work = WorkDir::beside(file)?;
    let dump = work.path.join(DUMP);
    run_tool(
        "pg_dump",
        database_url,
        &[
            "--format=custom".as_ref(),
            "--no-password".as_ref(),
            "--file".as_ref(),
            dump.as_os_str(),
        ],
    )?;

    let dump_part = part_of_file(DUMP, &dump)?;
    let mut parts = vec![dump_part];
    let key_parts = [
        (SIGNING_KEY, signing_key.as_slice()),
        (DATA_KEY, data_key.as_slice()),
    ];
    let keys_label = match keys {
        KeysPlacement::Included => {
            parts.extend(key_parts.iter().map(|(name, bytes)| part_of(name, bytes)));
            "included"
        }
        KeysPlacement::Apart(_) => "apart",
        KeysPlacement::Left => "left",
    };
    let now = chrono::Utc::now();
    let manifest = Manifest {
        format: BACKUP_FORMAT.into(),
        cascade_version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
        created_at: now,
        keys: keys_label.into(),
        key_sha256: key_sha256.clone(),
        parts,
    };

    let mut keys_file = None;
    if let KeysPlacement::Apart(path) = keys {
        let keys_manifest = Manifest {
            format: KEYS_FORMAT.into(),
            cascade_version: env!("CARGO_PKG_VERSION").into(),
            schema_version: String::new(),
            created_at: now,
            keys: String::new(),
            key_sha256,
            parts: key_parts.iter().map(|(n, b)| part_of(n, b)).collect(),
        };
        let entries: Vec<(&str, Source)> = key_parts
            .iter()
            .map(|(n, b)| (*n, Source::Bytes(b)))
            .collect();
        write_archive(path, &keys_manifest, &entries)?;
        keys_file = Some(path.clone());
    }

    let mut entries: Vec<(&str, Source)> = vec![(DUMP, Source::File(&dump))];
    if *keys == KeysPlacement::Included {
        entries.extend(key_parts.iter().map(|(n, b)| (*n, Source::Bytes(b))));
    }
    write_archive(file, &manifest, &entries)?;
    Ok(BackupReport {
        manifest,
        keys_file,
    })
}

/// Restores `file` into the database at `database_url`, puts the keys where `config` says, and
/// runs the migrations newer than the backup.
///
/// Everything that can be checked is checked before anything is written: the manifest and
/// every part's SHA-256, the schema version, the keys (present, belonging to this backup, not
/// different from key files already in place unless `force`), and that the database is empty
/// (unless `force`). The dump is restored in one transaction (`pg_restore --single-transaction
/// --exit-on-error`); with `force` the database's schemas are dropped first.
pub fn restore(
    config: &Config,
    database_url: &str,
    file: &Path,
    options: &RestoreOptions,
) -> Result<RestoreReport, BackupError> {
    // a backup on a read-only medium unpacks in the temporary folder instead
    let work = WorkDir::beside(file)
        .or_else(|_| WorkDir::beside(&std::env::temp_dir().join("cascade-restore")))?;
    let (manifest, mut small) = read_archive(file, BACKUP_FORMAT, Some(&work.path))?;
    let dump = work.path.join(DUMP);
    if !manifest.parts.iter().any(|p| p.name == DUMP) {
        return Err(BackupError::Corrupt(format!(
            "{MANIFEST} does not list {DUMP}"
        )));
    }

    let known = newest_known_migration()?;
    if digits(&manifest.schema_version) > digits(&known) {
        return Err(BackupError::SchemaTooNew {
            backup: manifest.schema_version.clone(),
            known,
        });
    }

    // the keys: in the backup, in a keys file, or already in place
    let keys = match (&options.keys_from, manifest.keys.as_str()) {
        (Some(keys_file), _) => {
            let (keys_manifest, small) = read_archive(keys_file, KEYS_FORMAT, None)?;
            if keys_manifest.key_sha256 != manifest.key_sha256 {
                return Err(BackupError::Keys(format!(
                    "tệp khóa {} không thuộc bản sao lưu này (mã băm của khóa khác với \
                     mã ghi trong bản sao lưu)",
                    keys_file.display()
                )));
            }
            Some(small)
        }
        (None, "included") => Some(std::mem::take(&mut small)),
        (None, _) => None,
    };
    let signing_target = signing_key_path(config);
    let data_target = config.data_key_path();
    let mut to_write: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    match keys {
        Some(mut keys) => {
            for (name, target, expected) in [
                (
                    SIGNING_KEY,
                    &signing_target,
                    &manifest.key_sha256.signing_key,
                ),
                (DATA_KEY, &data_target, &manifest.key_sha256.data_key),
            ] {
                let bytes = keys.remove(name).ok_or_else(|| {
                    BackupError::Corrupt(format!("{name} is missing from the keys"))
                })?;
                if hex_sha256(&bytes) != *expected {
                    return Err(BackupError::Corrupt(format!(
                        "{name} does not match the key digest in {MANIFEST}"
                    )));
                }
                match fs::read(target) {
                    Ok(existing) if existing == bytes => {}
                    Ok(_) if !options.force => {
                        return Err(BackupError::Keys(format!(
                            "{} đã có một khóa khác với khóa trong bản sao lưu; ghi đè nó sẽ \
                             làm mất những gì khóa đó mở được. Thêm --force nếu thật sự muốn \
                             thay nó.",
                            target.display()
                        )))
                    }
                    Ok(_) => to_write.push((target.clone(), bytes)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        to_write.push((target.clone(), bytes))
                    }
                    Err(e) => return Err(io_error("cannot read", target, e)),
                }
            }
        }
        None => {
            // kept by other means: they must be in place already, and be this backup's
            for (target, expected) in [
                (&signing_target, &manifest.key_sha256.signing_key),
                (&data_target, &manifest.key_sha256.data_key),
            ] {
                match fs::read(target) {
                    Ok(existing) if hex_sha256(&existing) == *expected => {}
                    Ok(_) => {
                        return Err(BackupError::Keys(format!(
                            "{} không phải khóa của bản sao lưu này; chỉ ra tệp khóa đi kèm \
                             bằng --keys-from",
                            target.display()
                        )))
                    }
                    Err(_) => {
                        return Err(BackupError::Keys(format!(
                            "bản sao lưu không chứa khóa và {} chưa có; chỉ ra tệp khóa đi kèm \
                             bằng --keys-from",
                            target.display()
                        )))
                    }
                }
            }
        }
    }
    if crate::privacy::previous_key_path(&data_target).exists() {
        return Err(BackupError::Keys(format!(
            "{} còn đó (một lần đổi khóa dữ liệu chưa xong); hãy xử lý nó trước khi khôi phục",
            crate::privacy::previous_key_path(&data_target).display()
        )));
    }

    let mut conn = connect(database_url)?;
    let relations = user_relations(&mut conn)?;
    if relations > 0 {
        if !options.force {
            return Err(BackupError::NotEmpty { relations });
        }
        clear_database(&mut conn)?;
    }
    drop(conn);

    run_tool(
        "pg_restore",
        database_url,
        &[
            "--no-owner".as_ref(),
            "--no-privileges".as_ref(),
            "--exit-on-error".as_ref(),
            "--single-transaction".as_ref(),
            "--no-password".as_ref(),
            dump.as_os_str(),
        ],
    )?;

    let mut keys_written = Vec::new();
    for (target, bytes) in to_write {
        place_key(&target, &bytes)?;
        keys_written.push(target);
    }
    let migrations_applied = crate::db::migrate(database_url).map_err(BackupError::Database)?;
    Ok(RestoreReport {
        manifest,
        keys_written,
        migrations_applied,
    })
}

fn refuse_existing(file: &Path) -> Result<(), BackupError> {
    if file.exists() {
        return Err(BackupError::Io(format!(
            "{} đã tồn tại; Cascade không ghi đè một bản sao lưu",
            file.display()
        )));
    }
    Ok(())
}

fn read_key(path: &Path, len: usize) -> Result<Vec<u8>, BackupError> {
    let bytes = fs::read(path).map_err(|e| {
        BackupError::Keys(format!(
            "không đọc được {} ({e}); bản sao lưu cần khóa này",
            path.display()
        ))
    })?;
    if bytes.len() < len {
        return Err(BackupError::Keys(format!(
            "{} chỉ có {} byte, cần ít nhất {len}",
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Writes a key file where none is (mode 0600, its folder made if needed) or replaces one.
fn place_key(target: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
    }
    if target.exists() {
        crate::secrets::replace(target, bytes).map_err(BackupError::Io)
    } else {
        crate::secrets::write_new(target, bytes)
            .and_then(|_| crate::secrets::sync_folder_of(target))
            .map_err(BackupError::Io)
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

fn part_of(name: &str, bytes: &[u8]) -> Part {
    Part {
        name: name.into(),
        bytes: bytes.len() as u64,
        sha256: hex_sha256(bytes),
    }
}

fn part_of_file(name: &str, path: &Path) -> Result<Part, BackupError> {
    let mut file = fs::File::open(path).map_err(|e| io_error("cannot open", path, e))?;
    let mut hasher = HashingWriter::new(io::sink());
    let bytes = io::copy(&mut file, &mut hasher).map_err(|e| io_error("cannot read", path, e))?;
    Ok(Part {
        name: name.into(),
        bytes,
        sha256: hasher.hex(),
    })
}

/// Passes writes through while hashing them.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    fn hex(self) -> String {
        data_encoding::HEXLOWER.encode(&self.hasher.finalize())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Source<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

/// Writes the manifest and the entries to `<file>.partial` (mode 0600), flushes it, and renames
/// it to `file`.
fn write_archive(
    file: &Path,
    manifest: &Manifest,
    entries: &[(&str, Source)],
) -> Result<(), BackupError> {
    let mut staged = file.as_os_str().to_owned();
    staged.push(".partial");
    let staged = PathBuf::from(staged);
    let _ = fs::remove_file(&staged);
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let out = options
            .open(&staged)
            .map_err(|e| io_error("cannot create", &staged, e))?;
        let zip_error = |e: zip::result::ZipError| io_error("cannot write", &staged, e);
        let mut zip = zip::ZipWriter::new(io::BufWriter::new(out));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o600);
        let json = serde_json::to_vec_pretty(manifest)
            .map_err(|e| BackupError::Io(format!("manifest: {e}")))?;
        zip.start_file(MANIFEST, stored).map_err(zip_error)?;
        zip.write_all(&json)
            .map_err(|e| io_error("cannot write", &staged, e))?;
        for (name, source) in entries {
            zip.start_file(*name, stored.large_file(true))
                .map_err(zip_error)?;
            match source {
                Source::File(path) => {
                    let mut input =
                        fs::File::open(path).map_err(|e| io_error("cannot open", path, e))?;
                    io::copy(&mut input, &mut zip)
                        .map_err(|e| io_error("cannot write", &staged, e))?;
                }
                Source::Bytes(bytes) => zip
                    .write_all(bytes)
                    .map_err(|e| io_error("cannot write", &staged, e))?,
            }
        }
        let buffered = zip.finish().map_err(zip_error)?;
        let out = buffered
            .into_inner()
            .map_err(|e| io_error("cannot write", &staged, e.error()))?;
        out.sync_all()
            .map_err(|e| io_error("cannot flush", &staged, e))?;
        fs::rename(&staged, file).map_err(|e| io_error("cannot rename", &staged, e))?;
        crate::secrets::sync_folder_of(file).map_err(BackupError::Io)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&staged);
    }
    result
}

/// Reads an archive of `format`: its manifest, every small entry in memory, and the dump (if
/// `dump_dir` is given) into that folder, each checked against its recorded size and SHA-256.
/// Entries the manifest does not list are refused.
fn read_archive(
    file: &Path,
    format: &str,
    dump_dir: Option<&Path>,
) -> Result<(Manifest, std::collections::HashMap<String, Vec<u8>>), BackupError> {
    let input = fs::File::open(file).map_err(|e| io_error("cannot open", file, e))?;
    let mut zip = zip::ZipArchive::new(io::BufReader::new(input))
        .map_err(|e| BackupError::Corrupt(format!("{}: {e}", file.display())))?;
    let manifest: Manifest = {
        let entry = zip
            .by_name(MANIFEST)
            .map_err(|e| BackupError::Corrupt(format!("{MANIFEST}: {e}")))?;
        let mut json = Vec::new();
        entry
            .take(SMALL_ENTRY_LIMIT)
            .read_to_end(&mut json)
            .map_err(|e| BackupError::Corrupt(format!("{MANIFEST}: {e}")))?;
        serde_json::from_slice(&json)
            .map_err(|e| BackupError::Corrupt(format!("{MANIFEST}: {e}")))?
    };
    if manifest.format != format {
        return Err(BackupError::Corrupt(format!(
            "{} is `{}`, expected `{format}`",
            file.display(),
            manifest.format
        )));
    }
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| BackupError::Corrupt(format!("{}: {e}", file.display())))?;
    for name in &names {
        if name != MANIFEST && !manifest.parts.iter().any(|p| &p.name == name) {
            return Err(BackupError::Corrupt(format!(
                "{name} is not listed in {MANIFEST}"
            )));
        }
    }
    let mut small = std::collections::HashMap::new();
    for part in &manifest.parts {
        let entry = zip
            .by_name(&part.name)
            .map_err(|e| BackupError::Corrupt(format!("{}: {e}", part.name)))?;
        let (bytes, sha256) = if part.name == DUMP {
            let dir = dump_dir.ok_or_else(|| {
                BackupError::Corrupt(format!("{DUMP} has no place in a {format} file"))
            })?;
            let path = dir.join(DUMP);
            let out = fs::File::create(&path).map_err(|e| io_error("cannot create", &path, e))?;
            let mut hashing = HashingWriter::new(io::BufWriter::new(out));
            let n = io::copy(&mut entry.take(part.bytes.saturating_add(1)), &mut hashing)
                .map_err(|e| BackupError::Corrupt(format!("{}: {e}", part.name)))?;
            hashing
                .flush()
                .map_err(|e| io_error("cannot write", &path, e))?;
            (n, hashing.hex())
        } else {
            let mut bytes = Vec::new();
            entry
                .take(SMALL_ENTRY_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(|e| BackupError::Corrupt(format!("{}: {e}", part.name)))?;
            let digest = (bytes.len() as u64, hex_sha256(&bytes));
            small.insert(part.name.clone(), bytes);
            digest
        };
        if bytes != part.bytes || sha256 != part.sha256 {
            return Err(BackupError::Corrupt(format!(
                "{} does not match {MANIFEST} (SHA-256 {sha256}, {bytes} bytes; recorded {}, \
                 {} bytes)",
                part.name, part.sha256, part.bytes
            )));
        }
    }
    Ok((manifest, small))
}

/// A private folder beside the backup file for the dump on its way in or out (the dump may be
/// large; beside the file it lands on the disk chosen for backups), removed when dropped.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn beside(file: &Path) -> Result<Self, BackupError> {
        let parent = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "backup".into());
        let path = parent.join(format!(".{name}.work-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        let mut builder = fs::DirBuilder::new();
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&path)
            .map_err(|e| io_error("cannot create", &path, e))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn connect(database_url: &str) -> Result<PgConnection, BackupError> {
    PgConnection::establish(database_url).map_err(|e| BackupError::Database(e.to_string()))
}

/// The newest applied migration, or `None` when the database has no migrations table.
fn applied_schema_version(conn: &mut PgConnection) -> Result<Option<String>, BackupError> {
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        version: Option<String>,
    }
    let table: Version =
        diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations')::text AS version")
            .get_result(conn)
            .map_err(|e| BackupError::Database(e.to_string()))?;
    if table.version.is_none() {
        return Ok(None);
    }
    let newest: Version =
        diesel::sql_query("SELECT max(version)::text AS version FROM __diesel_schema_migrations")
            .get_result(conn)
            .map_err(|e| BackupError::Database(e.to_string()))?;
    Ok(newest.version)
}

/// The newest migration this build of Cascade carries.
fn newest_known_migration() -> Result<String, BackupError> {
    use diesel::migration::MigrationSource;
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&crate::db::MIGRATIONS)
        .map_err(|e| BackupError::Database(e.to_string()))?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .max_by_key(|v| digits(v))
        .unwrap_or_default())
}

/// A migration version as its digits (diesel writes `2026-11-29-000008` in a migration's
/// folder name and `20261129000008` in its table).
fn digits(version: &str) -> String {
    version.chars().filter(char::is_ascii_digit).collect()
}

/// Tables, sequences, views and materialised views outside PostgreSQL's own schemas.
fn user_relations(conn: &mut PgConnection) -> Result<i64, BackupError> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm') \
           AND s.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND s.nspname NOT LIKE 'pg\\_%'",
    )
    .get_result(conn)
    .map_err(|e| BackupError::Database(e.to_string()))?;
    Ok(count.n)
}

/// Drops every schema outside PostgreSQL's own (with what they hold, extensions included) and
/// makes an empty `public` again, in one transaction.
fn clear_database(conn: &mut PgConnection) -> Result<(), BackupError> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        nspname: String,
    }
    conn.transaction(|conn| {
        let schemas: Vec<Name> = diesel::sql_query(
            "SELECT nspname::text AS nspname FROM pg_namespace \
             WHERE nspname NOT IN ('pg_catalog', 'information_schema') \
               AND nspname NOT LIKE 'pg\\_%'",
        )
        .load(conn)?;
        for Name { nspname } in schemas {
            let quoted = format!("\"{}\"", nspname.replace('"', "\"\""));
            diesel::sql_query(format!("DROP SCHEMA {quoted} CASCADE")).execute(conn)?;
        }
        diesel::sql_query("CREATE SCHEMA public").execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(|e| BackupError::Database(format!("cannot clear the database: {e}")))
}

/// Finds pg_dump or pg_restore beside the server programs `db::cluster` uses, then on PATH.
fn find_tool(program: &str) -> Result<PathBuf, BackupError> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if let Ok(dir) = crate::db::cluster::PostgresCluster::find_server_programs() {
        let path = dir.join(program);
        if executable(&path) {
            return Ok(path);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(found) = std::env::split_paths(&path)
            .map(|d| d.join(program))
            .find(|p| executable(p))
        {
            return Ok(found);
        }
    }
    Err(BackupError::ToolMissing(format!(
        "{program}: looked beside initdb/pg_ctl and on PATH"
    )))
}

/// Runs pg_dump or pg_restore against `database_url`. The password, if the URL has one, goes
/// in `PGPASSWORD` rather than on the command line, where any user could read it.
fn run_tool(
    program: &str,
    database_url: &str,
    args: &[&std::ffi::OsStr],
) -> Result<(), BackupError> {
    let exe = find_tool(program)?;
    let (url, password) = split_password(database_url);
    let mut command = Command::new(&exe);
    command
        .arg(format!("--dbname={url}"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let out = command.output().map_err(|e| BackupError::Tool {
        program: program.into(),
        detail: format!("cannot start {}: {e}", exe.display()),
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(BackupError::Tool {
        program: program.into(),
        detail: format!(
            "{} — {}",
            out.status,
            operator_text(&String::from_utf8_lossy(&out.stderr))
        ),
    })
}

/// A tool's stderr without the `DETAIL:` lines, which may quote a row's values (a duplicate
/// key names the key), so that no personal data reaches a terminal log.
fn operator_text(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.trim_start().starts_with("DETAIL:"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// `postgres://user:secret@host/db?…` → (`postgres://user@host/db?…`, `secret`), the password
/// percent-decoded.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_string(), None);
    };
    (
        format!("{scheme}://{user}@{host}{tail}"),
        Some(percent_decode(password)),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        assert_eq!(
            split_password("postgres://cascade:s%40cret@db.internal:5432/cascade?sslmode=require"),
            (
                "postgres://cascade@db.internal:5432/cascade?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        let socket = "postgres://postgres@localhost/cascade?host=/tmp/x";
        assert_eq!(split_password(socket), (socket.to_string(), None));
    }

    #[test]
    fn tool_messages_lose_their_detail_lines() {
        let stderr = "pg_restore: error: could not execute query: ERROR:  duplicate key\n\
                      DETAIL:  Key (username)=(nguyen.van.a) already exists.\n\
                      Command was: COPY public.users";
        let text = operator_text(stderr);
        assert!(!text.contains("nguyen.van.a"));
        assert!(text.contains("duplicate key"));
    }

    #[test]
    fn migration_versions_compare_by_their_digits() {
        assert_eq!(digits("2026-11-29-000008"), "20261129000008");
        assert!(digits("20261129000008") > digits("2026-11-29-000007"));
    }

    #[test]
    fn an_archive_with_a_changed_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys.zip");
        let manifest = Manifest {
            format: KEYS_FORMAT.into(),
            cascade_version: "0".into(),
            schema_version: String::new(),
            created_at: chrono::Utc::now(),
            keys: String::new(),
            key_sha256: KeyDigests::default(),
            parts: vec![part_of(DATA_KEY, &[7u8; 40])],
        };
        write_archive(&file, &manifest, &[(DATA_KEY, Source::Bytes(&[7u8; 40]))]).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (read, small) = read_archive(&file, KEYS_FORMAT, None).unwrap();
        assert_eq!(read, manifest);
        assert_eq!(small[DATA_KEY], vec![7u8; 40]);

        // the key's bytes are stored as they are: change one
        let mut bytes = fs::read(&file).unwrap();
        let at = bytes
            .windows(40)
            .position(|w| w == [7u8; 40])
            .expect("stored key");
        bytes[at] = 8;
        fs::write(&file, &bytes).unwrap();
        match read_archive(&file, KEYS_FORMAT, None) {
            Err(BackupError::Corrupt(detail)) => assert!(detail.contains(DATA_KEY), "{detail}"),
            other => panic!("expected a corrupt archive, got {other:?}"),
        }
        // and a keys file is not a backup
        assert!(matches!(
            read_archive(&dir.path().join("missing.zip"), BACKUP_FORMAT, None),
            Err(BackupError::Io(_))
        ));
    }
}
