//! Settings read from the environment (and an optional `.env`), checked once at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A setting that could not be used; start-up stops with this message, which names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where PostgreSQL is; `None` runs a private cluster under `data_dir/postgres`.
    pub database_url: Option<String>,
    pub bind: SocketAddr,
    /// The address people reach Cascade at, used in QR codes and links (no trailing slash).
    pub public_url: String,
    pub data_dir: PathBuf,
    pub jwt_secret_file: Option<PathBuf>,
    pub signing_key_file: Option<PathBuf>,
    /// The key that seals personal values at rest (`CASCADE_DATA_KEY_FILE`); by default
    /// `data-key` in the data directory, generated on first start. Part of every backup.
    pub data_key_file: Option<PathBuf>,
    /// Connections in the pool.
    pub db_pool_size: u32,
    /// Reverse proxies (load balancers) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Who may read `GET /metrics` (`CASCADE_METRICS_ALLOW`: addresses and CIDR ranges, by
    /// default loopback): the client address as the trusted-proxy rules resolve it.
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// How long login attempts, read-audit events and ended sessions are kept
    /// (`CASCADE_RETAIN_…_DAYS`); `cascade purge` and the daily purge of `serve` apply it.
    pub retention: crate::domain::retention::Retention,
}

impl Config {
    /// Reads the process environment, after loading `.env` when one exists.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth stopping for.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError {
                    variable: ".env",
                    message: format!("cannot read the .env file: {e}"),
                })
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the settings from any lookup function, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let database_url = match non_empty("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Some(url)
            }
            Some(_) => {
                return Err(ConfigError {
                    variable: "DATABASE_URL",
                    message: "must be a postgres:// or postgresql:// URL".into(),
                })
            }
            None => None,
        };

        let bind = match non_empty("CASCADE_BIND") {
            Some(v) => v.parse().map_err(|_| ConfigError {
                variable: "CASCADE_BIND",
                message: format!("`{v}` is not an address and port such as 127.0.0.1:8080"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };

        let public_url = match non_empty("CASCADE_PUBLIC_URL") {
            Some(v) => {
                let v = v.trim_end_matches('/').to_string();
                if !(v.starts_with("http://") || v.starts_with("https://")) || v.contains(' ') {
                    return Err(ConfigError {
                        variable: "CASCADE_PUBLIC_URL",
                        message: format!("`{v}` is not an http:// or https:// address"),
                    });
                }
                v
            }
            None => format!("http://{bind}"),
        };

        let data_dir =
            PathBuf::from(non_empty("CASCADE_DATA_DIR").unwrap_or_else(|| "./data".into()));

        let file = |name: &'static str| -> Result<Option<PathBuf>, ConfigError> {
            match non_empty(name) {
                Some(p) => {
                    let path = PathBuf::from(p);
                    if path.is_file() {
                        Ok(Some(path))
                    } else {
                        Err(ConfigError {
                            variable: name,
                            message: format!("no readable file at {}", path.display()),
                        })
                    }
                }
                None => Ok(None),
            }
        };
        let jwt_secret_file = file("CASCADE_JWT_SECRET_FILE")?;
        let signing_key_file = file("CASCADE_SIGNING_KEY_FILE")?;
        let data_key_file = file("CASCADE_DATA_KEY_FILE")?;

        let db_pool_size = match non_empty("CASCADE_DB_POOL_SIZE") {
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => {
                    return Err(ConfigError {
                        variable: "CASCADE_DB_POOL_SIZE",
                        message: format!("`{v}` is not a number from 1 to 200"),
                    })
                }
            },
            None => 10,
        };

        let trusted_proxies = match non_empty("CASCADE_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|_| ConfigError {
                        variable: "CASCADE_TRUSTED_PROXIES",
                        message: format!("`{s}` is not an IP address"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };

        let metrics_allow = match non_empty("CASCADE_METRICS_ALLOW") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<ipnet::IpNet>()
                        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| ConfigError {
                            variable: "CASCADE_METRICS_ALLOW",
                            message: format!("`{s}` is not an IP address or a CIDR range"),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![
                ipnet::IpNet::from(ipnet::Ipv4Net::new_assert(std::net::Ipv4Addr::LOCALHOST, 8)),
                ipnet::IpNet::from(std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
            ],
        };

        let retention_days = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            match non_empty(name) {
                Some(v) => {
                    crate::domain::retention::parse_days(&v).map_err(|message| ConfigError {
                        variable: name,
                        message,
                    })
                }
                None => Ok(default),
            }
        };
        let retention = {
            use crate::domain::retention::Retention;
            Retention {
                login_attempts_days: retention_days(
                    "CASCADE_RETAIN_LOGIN_ATTEMPTS_DAYS",
                    Retention::DEFAULT_LOGIN_ATTEMPTS_DAYS,
                )?,
                read_events_days: retention_days(
                    "CASCADE_RETAIN_READ_AUDIT_DAYS",
                    Retention::DEFAULT_READ_EVENTS_DAYS,
                )?,
                sessions_days: retention_days(
                    "CASCADE_RETAIN_SESSIONS_DAYS",
                    Retention::DEFAULT_SESSIONS_DAYS,
                )?,
            }
        };

        Ok(Config {
            database_url,
            bind,
            public_url,
            data_dir,
            jwt_secret_file,
            signing_key_file,
            data_key_file,
            db_pool_size,
            trusted_proxies,
            metrics_allow,
            retention,
        })
    }

    /// Where the private PostgreSQL cluster lives when `DATABASE_URL` is unset.
    pub fn private_cluster_dir(&self) -> PathBuf {
        self.data_dir.join("postgres")
    }

    /// The data key's file: `CASCADE_DATA_KEY_FILE`, or `data-key` in the data directory.
    pub fn data_key_path(&self) -> PathBuf {
        self.data_key_file
            .clone()
            .unwrap_or_else(|| self.data_path("data-key"))
    }

    pub fn data_path(&self, name: &str) -> PathBuf {
        Path::new(&self.data_dir).join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert!(c.database_url.is_none());
    }

    #[test]
    fn bad_bind_address_names_the_variable() {
        let e = config(&[("CASCADE_BIND", "localhost")]).unwrap_err();
        assert_eq!(e.variable, "CASCADE_BIND");
        assert!(e.to_string().starts_with("CASCADE_BIND: "));
    }

    #[test]
    fn bad_database_url_names_the_variable() {
        let e = config(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
    }

    #[test]
    fn the_data_key_lives_in_the_data_dir_unless_named() {
        let c = config(&[("CASCADE_DATA_DIR", "/srv/cascade")]).unwrap();
        assert_eq!(c.data_key_path(), PathBuf::from("/srv/cascade/data-key"));
        let e = config(&[("CASCADE_DATA_KEY_FILE", "/nonexistent/data-key")]).unwrap_err();
        assert_eq!(e.variable, "CASCADE_DATA_KEY_FILE");
    }

    #[test]
    fn missing_secret_file_names_the_variable() {
        let e = config(&[("CASCADE_JWT_SECRET_FILE", "/nonexistent/secret")]).unwrap_err();
        assert_eq!(e.variable, "CASCADE_JWT_SECRET_FILE");
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let c = config(&[("CASCADE_TRUSTED_PROXIES", "10.0.0.1, ::1")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        let e = config(&[("CASCADE_TRUSTED_PROXIES", "lb.internal")]).unwrap_err();
        assert_eq!(e.variable, "CASCADE_TRUSTED_PROXIES");
    }

    #[test]
    fn metrics_are_allowed_to_loopback_unless_told_otherwise() {
        let allows = |c: &Config, ip: &str| {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            c.metrics_allow.iter().any(|net| net.contains(&ip))
        };
        let c = config(&[]).unwrap();
        assert!(allows(&c, "127.0.0.1") && allows(&c, "::1"));
        assert!(!allows(&c, "10.0.0.5"));
        let c = config(&[("CASCADE_METRICS_ALLOW", "10.0.0.0/24, 192.168.1.7")]).unwrap();
        assert!(allows(&c, "10.0.0.5") && allows(&c, "192.168.1.7"));
        assert!(!allows(&c, "127.0.0.1") && !allows(&c, "192.168.1.8"));
        let e = config(&[("CASCADE_METRICS_ALLOW", "prometheus.internal")]).unwrap_err();
        assert_eq!(e.variable, "CASCADE_METRICS_ALLOW");
    }

    #[test]
    fn retention_periods_default_and_must_be_whole_days_from_one() {
        let c = config(&[]).unwrap();
        assert_eq!(c.retention, crate::domain::retention::Retention::default());
        let c = config(&[("CASCADE_RETAIN_SESSIONS_DAYS", "7")]).unwrap();
        assert_eq!(c.retention.sessions_days, 7);
        for (variable, bad) in [
            ("CASCADE_RETAIN_LOGIN_ATTEMPTS_DAYS", "0"),
            ("CASCADE_RETAIN_READ_AUDIT_DAYS", "two years"),
            ("CASCADE_RETAIN_SESSIONS_DAYS", "-1"),
        ] {
            let e = config(&[(variable, bad)]).unwrap_err();
            assert_eq!(e.variable, variable);
        }
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        let c = config(&[("CASCADE_PUBLIC_URL", "https://cascade.example.vn/")]).unwrap();
        assert_eq!(c.public_url, "https://cascade.example.vn");
        assert!(config(&[("CASCADE_PUBLIC_URL", "cascade.example.vn")]).is_err());
    }
}
