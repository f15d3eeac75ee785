//! The rules of the training chain as plain types and functions: no HTTP, no SQL.
pub mod access;
pub mod audit;
pub mod certificates;
pub mod labels;
pub mod organizations;
pub mod paging;
pub mod people;
pub mod privacy;
pub mod retention;
pub mod retirement;
pub mod text;
pub mod training;
pub mod user_import;
