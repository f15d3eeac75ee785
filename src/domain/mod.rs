//! The rules of the training chain as plain types and functions: no HTTP, no SQL.
pub mod access;
pub mod audit;
pub mod campaigns;
pub mod certificates;
pub mod labels;
pub mod organizations;
pub mod outreach;
pub mod outreach_import;
pub mod paging;
pub mod people;
pub mod privacy;
pub mod reports;
pub mod retention;
pub mod retirement;
pub mod targets;
pub mod text;
pub mod training;
pub mod user_import;

/// How the property tests of the rules run: `cases` generated inputs, and no file of past
/// failures written into the source tree.
#[cfg(test)]
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
