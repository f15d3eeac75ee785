//! Runs a private PostgreSQL cluster (unix socket only) for the service when no DATABASE_URL is set, and throwaway clusters for tests.

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Port number of our clusters. With TCP switched off it only names the
/// socket file (`.s.PGSQL.<port>`), so a fixed value never clashes as long
/// as every cluster has its own socket directory.
const PORT: u16 = 5432;

/// The kernel limit for a unix socket path is 108 bytes including the NUL;
/// we keep a little margin below PostgreSQL's own check.
const MAX_SOCKET_PATH: usize = 100;

/// How long to wait for a server that pg_ctl reports as running to become
/// usable (or to vanish) before giving up.
const REUSE_WAIT_SECS: u64 = 15;

/// How many lines of the server log to quote when something goes wrong.
const LOG_TAIL_LINES: usize = 20;

/// Seconds `pg_ctl start/stop -w` may wait before giving up.
/// Server settings that keep personal data out of PostgreSQL's own log: no DETAIL (a duplicate
/// key's value), no failing statement's text, no statement logged at all, and no bind parameter
/// quoted with a logged statement or an error.
pub const PRIVATE_LOG_SETTINGS: &str =
    "-c log_error_verbosity=terse -c log_min_error_statement=panic \
     -c log_statement=none -c log_parameter_max_length=0 -c log_parameter_max_length_on_error=0";

const PG_CTL_TIMEOUT_SECS: &str = "60";

#[derive(Debug)]
pub enum ClusterError {
    /// initdb / pg_ctl could not be found; the string says where we looked.
    ServerProgramsMissing(String),
    /// The `postgres` system user cannot enter or write the data folder.
    Unreachable(String),
    /// A server program ran but failed.
    Command {
        program: String,
        detail: String,
    },
    Io(io::Error),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::ServerProgramsMissing(looked) => write!(
                f,
                "The PostgreSQL server programs (initdb and pg_ctl) were not found ({looked}). \
                 Install the Debian package `postgresql` (for example `apt-get install postgresql-15`), \
                 or set DATABASE_URL to use an existing database server."
            ),
            ClusterError::Unreachable(detail) => write!(
                f,
                "The `postgres` system user cannot enter or write the database folder: {detail}. \
                 Set CASCADE_DATA_DIR to a folder it can reach, such as /var/lib/cascade or /tmp/cascade-data."
            ),
            ClusterError::Command { program, detail } => {
                write!(f, "The PostgreSQL program `{program}` failed: {detail}")
            }
            ClusterError::Io(err) => write!(f, "Could not prepare the PostgreSQL cluster: {err}"),
        }
    }
}

impl std::error::Error for ClusterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClusterError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for ClusterError {
    fn from(err: io::Error) -> Self {
        ClusterError::Io(err)
    }
}

/// Extra server settings; throwaway test clusters trade durability for speed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    Durable,
    Throwaway,
}

pub struct PostgresCluster {
    /// The PGDATA folder (`<dir>/pgdata`).
    data_dir: PathBuf,
    /// Where the server puts `.s.PGSQL.<port>`.
    socket_dir: PathBuf,
    port: u16,
    /// Folder holding initdb and pg_ctl.
    bindir: PathBuf,
    /// True when we are root: initdb refuses root, so server programs run via runuser.
    run_as_postgres: bool,
    /// False when the cluster was already running and we merely reused it.
    owned: bool,
    /// Set once stop() succeeded, so stop() and Drop are idempotent.
    stopped: bool,
    /// A socket folder we created under /tmp because the normal path was too long.
    temp_socket_dir: Option<PathBuf>,
    /// For test clusters: the whole folder the reaper deletes at process exit.
    throwaway_root: Option<PathBuf>,
}

impl PostgresCluster {
    /// Finds the directory holding initdb and pg_ctl: `pg_config --bindir`, then PATH, then the newest /usr/lib/postgresql/*/bin.
    pub fn find_server_programs() -> Result<PathBuf, ClusterError> {
        // pg_config knows the exact server build; on Debian the programs are
        // not on PATH by default (only wrappers in postgresql-common).
        if let Ok(out) = Command::new("pg_config")
            .arg("--bindir")
            .stdin(Stdio::null())
            .output()
        {
            if out.status.success() {
                let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                if has_server_programs(&dir) {
                    return Ok(dir);
                }
            }
        }

        if let Some(path) = std::env::var_os("PATH") {
            if let Some(dir) = std::env::split_paths(&path).find(|d| has_server_programs(d)) {
                return Ok(dir);
            }
        }

        let root = Path::new("/usr/lib/postgresql");
        if let Ok(entries) = fs::read_dir(root) {
            let names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            let mut candidates: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| has_server_programs(&root.join(n).join("bin")))
                .collect();
            candidates.sort_by_key(|n| version_key(n));
            if let Some(newest) = candidates.last() {
                return Ok(root.join(newest).join("bin"));
            }
        }

        Err(ClusterError::ServerProgramsMissing(
            "looked at `pg_config --bindir`, PATH and /usr/lib/postgresql/*/bin".to_string(),
        ))
    }

    /// Starts (running initdb on first use) the cluster kept under `dir`:
    /// data in `dir/pgdata`, socket in `dir/run` (or a fresh /tmp folder when
    /// that path is too long for a unix socket), server log in `dir/postgres.log`.
    /// If that cluster is already running it is reused and never stopped by us.
    pub fn start(dir: &Path) -> Result<Self, ClusterError> {
        Self::start_in(dir, Profile::Durable, None)
    }

    /// For tests: a brand-new cluster in a fresh folder under the temp dir,
    /// tuned for speed, removed by a detached reaper once this process exits
    /// (test processes rarely run destructors of statics).
    pub fn start_throwaway() -> Result<Self, ClusterError> {
        let root = std::env::temp_dir().join(unique_name("cascade-test-pg"));
        fs::create_dir_all(&root)?;
        let cluster = Self::start_in(&root, Profile::Throwaway, Some(root.clone()))?;
        cluster.spawn_reaper(&root)?;
        Ok(cluster)
    }

    /// `postgres://postgres@localhost/<db>?host=<socket dir>` — libpq (and
    /// hence diesel) treats an absolute path in `host=` as a socket folder.
    pub fn database_url(&self, database: &str) -> String {
        build_url(&self.socket_dir, self.port, database)
    }

    /// The PGDATA folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The folder holding the server's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// `pg_ctl stop -m fast -w`, only for clusters we started; idempotent.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if !self.owned || self.stopped {
            return Ok(());
        }
        let out = self.run_server_program(
            "pg_ctl",
            [
                OsStr::new("stop"),
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-w"),
                OsStr::new("-t"),
                OsStr::new(PG_CTL_TIMEOUT_SECS),
            ],
        )?;
        // A server someone else already stopped counts as stopped.
        if !out.status.success() && self.status_running()? {
            return Err(command_error("pg_ctl stop", &out, None));
        }
        self.stopped = true;
        tracing::info!(data_dir = %self.data_dir.display(), "PostgreSQL cluster stopped");
        if let Some(dir) = self.temp_socket_dir.take() {
            // Only empty once the server is gone; leftovers are harmless in /tmp.
            let _ = fs::remove_dir_all(dir);
        }
        Ok(())
    }

    fn start_in(
        dir: &Path,
        profile: Profile,
        throwaway_root: Option<PathBuf>,
    ) -> Result<Self, ClusterError> {
        let bindir = Self::find_server_programs()?;
        // Absolute paths: server programs run from `/` (see server_command)
        // and the paths end up in pg_ctl's shell command line.
        let dir = std::path::absolute(dir)?;
        require_utf8(&dir)?;
        fs::create_dir_all(&dir)?;

        let run_as_postgres = effective_uid()? == 0;
        if run_as_postgres {
            check_postgres_can_reach(&dir)?;
        }

        let data_dir = dir.join("pgdata");
        let log_file = dir.join("postgres.log");
        let mut cluster = PostgresCluster {
            socket_dir: dir.join("run"),
            data_dir,
            port: PORT,
            bindir,
            run_as_postgres,
            owned: true,
            stopped: false,
            temp_socket_dir: None,
            throwaway_root,
        };

        if cluster.data_dir.join("PG_VERSION").is_file() {
            if cluster.wait_for_running_server()? {
                cluster.adopt_running();
                tracing::info!(
                    data_dir = %cluster.data_dir.display(),
                    "PostgreSQL cluster already running; reusing it"
                );
                return Ok(cluster);
            }
        } else {
            cluster.initdb(profile)?;
        }

        cluster.prepare_socket_dir()?;
        cluster.pg_ctl_start(profile, &log_file)?;
        tracing::info!(
            data_dir = %cluster.data_dir.display(),
            socket_dir = %cluster.socket_dir.display(),
            "PostgreSQL cluster started"
        );
        Ok(cluster)
    }

    fn initdb(&self, profile: Profile) -> Result<(), ClusterError> {
        tracing::info!(data_dir = %self.data_dir.display(), "creating PostgreSQL cluster (initdb)");
        let base: Vec<&OsStr> = vec![
            OsStr::new("-D"),
            self.data_dir.as_os_str(),
            OsStr::new("-A"),
            OsStr::new("trust"),
            OsStr::new("-U"),
            OsStr::new("postgres"),
            OsStr::new("-E"),
            OsStr::new("UTF8"),
        ];
        let no_sync: &[&OsStr] = match profile {
            Profile::Throwaway => &[OsStr::new("--no-sync")],
            Profile::Durable => &[],
        };
        let with_locale = base
            .iter()
            .copied()
            .chain([OsStr::new("--locale=C.UTF-8")])
            .chain(no_sync.iter().copied());
        let out = self.run_server_program("initdb", with_locale)?;
        if out.status.success() {
            return Ok(());
        }
        // Some systems lack the C.UTF-8 locale; initdb cleans up its partial
        // data folder on failure, so a second attempt starts from scratch.
        tracing::warn!(
            detail = %output_text(&out),
            "initdb with --locale=C.UTF-8 failed; retrying with --no-locale"
        );
        let without_locale = base
            .iter()
            .copied()
            .chain([OsStr::new("--no-locale")])
            .chain(no_sync.iter().copied());
        let out = self.run_server_program("initdb", without_locale)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(command_error("initdb", &out, None))
        }
    }

    /// Uses `<dir>/run` unless the socket path would be too long, then a
    /// fresh short folder under /tmp.
    fn prepare_socket_dir(&mut self) -> Result<(), ClusterError> {
        if !socket_path_fits(&self.socket_dir, self.port) {
            let short = Path::new("/tmp").join(unique_name("cascade-pg-sock"));
            tracing::info!(
                wanted = %self.socket_dir.display(),
                using = %short.display(),
                "socket path too long for a unix socket; using a short folder"
            );
            self.socket_dir = short.clone();
            self.temp_socket_dir = Some(short);
        }
        fs::create_dir_all(&self.socket_dir)?;
        if self.run_as_postgres {
            chown_to_postgres(&self.socket_dir)?;
        }
        Ok(())
    }

    fn pg_ctl_start(&self, profile: Profile, log_file: &Path) -> Result<(), ClusterError> {
        // pg_ctl pastes -o into a `/bin/sh -c` command line, hence the quoting.
        // listen_addresses='' turns TCP off: only the socket is reachable.
        let socket_dir = require_utf8(&self.socket_dir)?;
        // The log must never carry personal data: a duplicate-key error's DETAIL names the value
        // (a national ID), and a failing statement is logged with its text. `terse` drops DETAIL,
        // HINT, QUERY and CONTEXT; `log_min_error_statement = panic` stops statements being logged.
        let mut opts = format!(
            "-c listen_addresses='' -p {} -k {} {}",
            self.port,
            sh_quote(socket_dir),
            PRIVATE_LOG_SETTINGS
        );
        if profile == Profile::Throwaway {
            opts.push_str(
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            );
        }
        // A stale postmaster.pid (after a crash) is handled by the postmaster
        // itself; any other failure is explained by the log tail below.
        let out = self.run_server_program(
            "pg_ctl",
            [
                OsStr::new("start"),
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("-l"),
                log_file.as_os_str(),
                OsStr::new("-w"),
                OsStr::new("-t"),
                OsStr::new(PG_CTL_TIMEOUT_SECS),
                OsStr::new("-o"),
                OsStr::new(&opts),
            ],
        )?;
        if out.status.success() {
            Ok(())
        } else {
            Err(command_error("pg_ctl start", &out, Some(log_file)))
        }
    }

    /// A reused server may have been started with another socket folder or
    /// port; postmaster.pid records the ones it actually uses.
    fn adopt_running(&mut self) {
        self.owned = false;
        match fs::read_to_string(self.data_dir.join("postmaster.pid")) {
            Ok(text) => {
                let (port, socket_dir) = parse_postmaster_pid(&text);
                if let Some(port) = port {
                    self.port = port;
                }
                if let Some(dir) = socket_dir {
                    self.socket_dir = dir;
                }
            }
            Err(err) => tracing::warn!(
                error = %err,
                "cannot read postmaster.pid of the running cluster; assuming the default socket folder"
            ),
        }
    }

    /// Decides whether a server is already running on our data folder.
    /// `pg_ctl status` alone is not enough: it also says "running" while a
    /// server starts up or shuts down, and for a killed postmaster that is
    /// still an unreaped zombie (init in some containers reaps only every
    /// second or two). So we wait until postmaster.pid says "ready" for a
    /// live process, or until the server is really gone.
    fn wait_for_running_server(&self) -> Result<bool, ClusterError> {
        let deadline = Instant::now() + Duration::from_secs(REUSE_WAIT_SECS);
        loop {
            if !self.status_running()? {
                return Ok(false);
            }
            let pid_file =
                fs::read_to_string(self.data_dir.join("postmaster.pid")).unwrap_or_default();
            let pid = pid_file
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<u32>().ok());
            let ready = pid_file.lines().nth(7).map(str::trim) == Some("ready");
            if ready && pid.is_some_and(|pid| !is_zombie(pid)) {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::Command {
                    program: "pg_ctl status".to_string(),
                    detail: format!(
                        "a server seems to be running on {} but has not become ready within {REUSE_WAIT_SECS} s; \
                         stop it (pg_ctl stop -D {}) or remove a stale postmaster.pid",
                        self.data_dir.display(),
                        self.data_dir.display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `pg_ctl status`: exit 0 = running, 3 = not running, 4 = no data folder.
    fn status_running(&self) -> Result<bool, ClusterError> {
        let out = self.run_server_program(
            "pg_ctl",
            [
                OsStr::new("status"),
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
            ],
        )?;
        Ok(out.status.success())
    }

    fn run_server_program<I, S>(&self, program: &str, args: I) -> Result<Output, ClusterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = server_command(&self.bindir, self.run_as_postgres, program);
        cmd.args(args).stdin(Stdio::null());
        cmd.output().map_err(|err| ClusterError::Command {
            program: program.to_string(),
            detail: format!("could not run it: {err}"),
        })
    }

    /// Detached `sh` loop that waits for this process to exit, then kills the
    /// server and deletes its files. It has its own process group so a
    /// Ctrl-C on the test run does not take it down early.
    fn spawn_reaper(&self, root: &Path) -> Result<(), ClusterError> {
        let pg_ctl = self.bindir.join("pg_ctl");
        let stop = format!(
            "{}{} stop -D {} -m immediate -w",
            if self.run_as_postgres {
                "runuser -u postgres -- "
            } else {
                ""
            },
            sh_quote(require_utf8(&pg_ctl)?),
            sh_quote(require_utf8(&self.data_dir)?),
        );
        let mut remove = sh_quote(require_utf8(root)?);
        if let Some(sock) = &self.temp_socket_dir {
            remove.push(' ');
            remove.push_str(&sh_quote(require_utf8(sock)?));
        }
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {remove}",
            pid = std::process::id(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        // The Child handle is dropped on purpose: the reaper must outlive us.
        Ok(())
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        // Throwaway clusters are left to their reaper, which also deletes the files.
        if self.owned && self.throwaway_root.is_none() {
            if let Err(err) = self.stop() {
                tracing::warn!(error = %err, "could not stop the PostgreSQL cluster");
            }
        }
    }
}

/// Builds the command for a server program, wrapped in `runuser -u postgres`
/// when we are root. Runs from `/` because postgres cannot read root's
/// working directory and the server complains about it.
fn server_command(bindir: &Path, run_as_postgres: bool, program: &str) -> Command {
    let exe = bindir.join(program);
    let mut cmd = if run_as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.current_dir("/");
    cmd
}

/// A dead process its parent has not reaped yet still answers `kill -0`.
fn is_zombie(pid: u32) -> bool {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces or ')'.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|s| s == "Z"))
        })
        .unwrap_or(false)
}

fn has_server_programs(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Orders folder names such as "9.6", "13", "15" numerically.
fn version_key(name: &str) -> Vec<u32> {
    name.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Effective uid from /proc (no libc), falling back to `id -u`.
fn effective_uid() -> Result<u32, ClusterError> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        // "Uid:\treal\teffective\tsaved\tfs"
        let euid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    let out = Command::new("id").arg("-u").stdin(Stdio::null()).output()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| ClusterError::Command {
            program: "id -u".to_string(),
            detail: format!("unexpected output {:?}", output_text(&out)),
        })
}

/// As root, the server programs run as `postgres`, which must be able to
/// enter every parent folder and own `dir`. Checked up front because the
/// failures initdb reports otherwise are hard to read.
fn check_postgres_can_reach(dir: &Path) -> Result<(), ClusterError> {
    for parent in dir.ancestors().skip(1) {
        if !postgres_test("-x", parent)? {
            return Err(ClusterError::Unreachable(format!(
                "it cannot enter {} (on the way to {})",
                parent.display(),
                dir.display()
            )));
        }
    }
    chown_to_postgres(dir)?;
    if !postgres_test("-w", dir)? || !postgres_test("-x", dir)? {
        return Err(ClusterError::Unreachable(format!(
            "it cannot write to {}",
            dir.display()
        )));
    }
    Ok(())
}

fn postgres_test(flag: &str, path: &Path) -> Result<bool, ClusterError> {
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--", "test", flag])
        .arg(path)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|err| ClusterError::Command {
            program: "runuser".to_string(),
            detail: format!("could not run it: {err}"),
        })?;
    Ok(status.success())
}

/// Non-recursive on purpose: only folders we create or hand to the server;
/// an existing PGDATA already belongs to postgres.
fn chown_to_postgres(path: &Path) -> Result<(), ClusterError> {
    let out = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .stdin(Stdio::null())
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(command_error("chown", &out, None))
    }
}

fn socket_path_fits(socket_dir: &Path, port: u16) -> bool {
    let file = socket_dir.join(format!(".s.PGSQL.{port}"));
    file.as_os_str().len() <= MAX_SOCKET_PATH
}

fn build_url(socket_dir: &Path, port: u16, database: &str) -> String {
    let host = percent_encode(&socket_dir.to_string_lossy(), true);
    let db = percent_encode(database, false);
    // libpq's default port is 5432; only spell out a different one.
    let port = if port == PORT {
        String::new()
    } else {
        format!(":{port}")
    };
    format!("postgres://postgres@localhost{port}/{db}?host={host}")
}

/// RFC 3986 percent-encoding of everything except unreserved characters
/// (and `/` when `keep_slash`, so socket paths stay readable).
fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/');
        if plain {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Single-quotes a string for `/bin/sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Paths are pasted into shell command lines (pg_ctl -o, the reaper), so
/// they must be text.
fn require_utf8(path: &Path) -> Result<&str, ClusterError> {
    path.to_str().ok_or_else(|| {
        ClusterError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path is not valid UTF-8: {}", path.display()),
        ))
    })
}

/// postmaster.pid: line 4 is the port, line 5 the first socket folder.
fn parse_postmaster_pid(text: &str) -> (Option<u16>, Option<PathBuf>) {
    let lines: Vec<&str> = text.lines().collect();
    let port = lines.get(3).and_then(|l| l.trim().parse().ok());
    let socket_dir = lines
        .get(4)
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from);
    (port, socket_dir)
}

fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(err.trim());
    }
    text
}

fn command_error(program: &str, out: &Output, log_file: Option<&Path>) -> ClusterError {
    let mut detail = format!("{} — {}", out.status, output_text(out));
    if let Some(log) = log_file {
        match fs::read_to_string(log) {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
                detail.push_str(&format!(
                    "\nlast lines of {}:\n{}",
                    log.display(),
                    tail.join("\n")
                ));
            }
            Err(err) => {
                detail.push_str(&format!("\n(could not read {}: {err})", log.display()));
            }
        }
    }
    ClusterError::Command {
        program: program.to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_socket_dir_fits() {
        assert!(socket_path_fits(Path::new("/var/lib/cascade/run"), 5432));
    }

    #[test]
    fn long_socket_dir_does_not_fit() {
        let long = PathBuf::from("/tmp").join("x".repeat(90)).join("run");
        assert!(!socket_path_fits(&long, 5432));
    }

    #[test]
    fn socket_limit_is_exactly_100_bytes() {
        // "/" + name + "/.s.PGSQL.5432" (14 bytes)
        let fits = PathBuf::from(format!("/{}", "a".repeat(85)));
        assert_eq!(fits.join(".s.PGSQL.5432").as_os_str().len(), 100);
        assert!(socket_path_fits(&fits, 5432));
        let too_long = PathBuf::from(format!("/{}", "a".repeat(86)));
        assert!(!socket_path_fits(&too_long, 5432));
    }

    #[test]
    fn url_for_plain_socket_dir() {
        assert_eq!(
            build_url(Path::new("/var/lib/cascade/run"), 5432, "cascade"),
            "postgres://postgres@localhost/cascade?host=/var/lib/cascade/run"
        );
    }

    #[test]
    fn url_encodes_odd_characters_and_port() {
        assert_eq!(
            build_url(Path::new("/tmp/my dir&x"), 5433, "db/1"),
            "postgres://postgres@localhost:5433/db%2F1?host=/tmp/my%20dir%26x"
        );
    }

    #[test]
    fn shell_quoting_escapes_single_quotes() {
        assert_eq!(sh_quote("/tmp/a'b"), r"'/tmp/a'\''b'");
    }

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["9.6", "15", "13", "10"];
        v.sort_by_key(|n| version_key(n));
        assert_eq!(v, ["9.6", "10", "13", "15"]);
    }

    #[test]
    fn postmaster_pid_gives_port_and_socket_dir() {
        let text = "1234\n/data\n1700000000\n5433\n/tmp/sock\n\n  123 456\nready   \n";
        assert_eq!(
            parse_postmaster_pid(text),
            (Some(5433), Some(PathBuf::from("/tmp/sock")))
        );
        assert_eq!(parse_postmaster_pid("1234\n"), (None, None));
    }

    #[test]
    fn unreachable_message_suggests_cascade_data_dir() {
        let msg = ClusterError::Unreachable("it cannot enter /root".into()).to_string();
        assert!(msg.contains("CASCADE_DATA_DIR"));
        let msg = ClusterError::ServerProgramsMissing("x".into()).to_string();
        assert!(msg.contains("apt-get install postgresql-15") && msg.contains("DATABASE_URL"));
    }
}
