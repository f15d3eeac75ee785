//! The reports: coverage of the programme and outreach results per organisation, rolled up the
//! tree, as JSON, CSV or XLSX; lists of certificates as spreadsheets; the maintained summaries
//! behind them.

pub mod certificates;
pub mod coverage;
pub mod outreach;
pub mod spreadsheet;
pub mod summaries;

pub use coverage::{coverage, file_stem, to_csv, to_xlsx, Coverage, CoverageItem};
pub use outreach::{OutreachItem, OutreachReport};
pub use spreadsheet::spreadsheet_safe;
