//! Passwords: argon2id with OWASP's parameters (the argon2 crate's defaults) in PHC strings,
//! hashed and checked off the async workers, a few at a time.

use std::sync::{mpsc, Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::AppError;

/// Argon2 runs on threads of its own, at a lower CPU priority than everything else: each hash
/// takes ~19 MiB and a core for ~15 ms, so a burst of logins must queue behind the requests
/// that only read, not starve them — and the memory of a hash is reused by the next one on the
/// same thread instead of piling up in the allocator of every blocking thread that ever hashed.
/// One thread per two cores (at least one).
fn hashers() -> &'static mpsc::Sender<Job> {
    static HASHERS: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    HASHERS.get_or_init(|| {
        give_big_buffers_back();
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..(cores / 2).max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        let job = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        sender
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// A hash's 19 MiB would otherwise stay in the allocator after it is freed (glibc raises its
/// mmap threshold to the size of the largest freed block, so every later hash is carved from,
/// and kept in, an arena: measured ~115 MB resident after a login flood). A fixed threshold
/// maps such buffers afresh and returns them to the system when freed, for ~1 ms a hash.
fn give_big_buffers_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Nice 5 for the calling thread (on Linux a thread has its own nice value): under load it
/// gets about a third of the CPU share of a normal thread; on an idle machine, all of a core.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `who = 0` is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS as _, 0, 5);
    }
}

/// Runs `work` on a hashing thread and waits for its answer without blocking the caller.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    hashers()
        .send(Box::new(move || {
            let _ = tx.send(work());
        }))
        .map_err(|_| AppError::internal("the password-hashing threads are gone"))?;
    rx.await
        .map_err(|_| AppError::internal("a password-hashing thread stopped"))
}

fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// Hashes synchronously (for the command line and seeding).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Checks synchronously; a malformed stored hash counts as a mismatch.
pub fn verify_blocking(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// True when the stored hash was made with other parameters than today's, so a successful login
/// should store a fresh one.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let current = argon2::Params::default();
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(argon2::Version::V0x13 as u32)
        || params.m_cost() != current.m_cost()
        || params.t_cost() != current.t_cost()
        || params.p_cost() != current.p_cost()
}

/// A hash of nothing anyone knows, checked for unknown users so that the time to answer does not
/// reveal whether an account exists.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("cascade-dummy-password-for-timing")
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into())
    })
}

pub async fn hash(password: String) -> Result<String, AppError> {
    on_hasher(move || hash_blocking(&password)).await?
}

/// Checks `password` against `phc`, or against a dummy hash when there is no account (`None`),
/// taking the same time either way.
pub async fn verify(phc: Option<String>, password: String) -> Result<bool, AppError> {
    on_hasher(move || match phc {
        Some(phc) => verify_blocking(&phc, &password),
        None => {
            let _ = verify_blocking(dummy_hash(), &password);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_phc_and_verifies() {
        let phc = hash_blocking("mật khẩu rất dài").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking(&phc, "mật khẩu rất dài"));
        assert!(!verify_blocking(&phc, "mat khau rat dai"));
        assert!(!needs_rehash(&phc));
    }

    #[test]
    fn weaker_parameters_need_rehash() {
        let weak = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let phc = weak
            .hash_password(b"password123", &salt)
            .unwrap()
            .to_string();
        assert!(verify_blocking(&phc, "password123"));
        assert!(needs_rehash(&phc));
    }

    #[test]
    fn malformed_hash_never_verifies() {
        assert!(!verify_blocking("not a hash", "anything"));
    }
}
