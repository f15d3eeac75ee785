//! Certificates as documents: numbering, signing and storing them ([`issuance`]), and the PDF a
//! holder downloads ([`pdf`]). What earns one is decided in `service::certification`.

pub mod issuance;
pub mod pdf;

/// What issuing needs besides the database: the signing key and the public address.
#[derive(Clone)]
pub struct Issuer {
    pub signing_key_seed: [u8; 32],
    pub public_url: String,
}

impl Issuer {
    /// Loads (or, on first use, generates) the signing key named by the configuration.
    pub fn from_config(config: &crate::Config) -> Result<Self, String> {
        let path = config
            .signing_key_file
            .clone()
            .unwrap_or_else(|| config.data_path("signing-key"));
        let key = crate::secrets::load_or_create(&path, 32)?;
        let mut signing_key_seed = [0u8; 32];
        signing_key_seed.copy_from_slice(&key[..32]);
        Ok(Issuer {
            signing_key_seed,
            public_url: config.public_url.clone(),
        })
    }
}
