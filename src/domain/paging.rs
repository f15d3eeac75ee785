//! Pages of a list: which page, how many on it.

use crate::error::{AppError, FieldError};

/// Paging parameters, checked: page from 1, 1 to 100 per page (default 20).
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64), AppError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(20);
    let mut errors = Vec::new();
    if !(1..=100_000).contains(&page) {
        errors.push(FieldError::new("page", "Số trang phải từ 1 đến 100.000."));
    }
    if !(1..=100).contains(&per_page) {
        errors.push(FieldError::new(
            "per_page",
            "Số dòng mỗi trang phải từ 1 đến 100.",
        ));
    }
    if errors.is_empty() {
        Ok((page, per_page))
    } else {
        Err(AppError::Validation(errors))
    }
}
