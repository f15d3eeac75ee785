//! Reading a posted form: URL-encoded fields, or a multipart form with one uploaded file (a CSV),
//! bounded in size.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::error::AppError;

/// A posted form's fields and, for a multipart form, its uploaded file.
#[derive(Debug, Default)]
pub struct Posted {
    pub fields: Vec<(String, String)>,
    pub file: Option<Vec<u8>>,
}

impl Posted {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field (check boxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A field with a value, or `None` for a missing or blank one.
    pub fn filled(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }
}

/// Reads a posted form of at most `limit` bytes.
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Posted, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(req, payload, limit).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = read_limited(payload, limit).await?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| AppError::BadRequest("Không đọc được biểu mẫu.".into()))?;
    Ok(Posted { fields, file: None })
}

async fn read_limited(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, AppError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("Không đọc được biểu mẫu.".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Posted, AppError> {
    let unreadable = || AppError::BadRequest("Không đọc được biểu mẫu.".into());
    let mut form = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let mut posted = Posted::default();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or("").to_string();
        let is_file = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .is_some();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if total > limit {
                return Err(AppError::PayloadTooLarge);
            }
            value.extend_from_slice(&chunk);
        }
        if is_file {
            posted.file = Some(value);
        } else {
            posted
                .fields
                .push((name, String::from_utf8(value).map_err(|_| unreadable())?));
        }
    }
    Ok(posted)
}
