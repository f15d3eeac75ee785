//! Personal data: the audit actions that record a *read* of someone's personal data (as opposed
//! to a change), which a person's own trail shows and the retention of read events applies to.

/// A staff member saw a person's full CCCD (`POST /users/{id}/national-id`).
pub const NATIONAL_ID_REVEALED: &str = "national_id_revealed";

/// A list of people (CSV or XLSX) left the system.
pub const PEOPLE_EXPORTED: &str = "people_exported";

/// A certificate's PDF (alone or in a cohort's ZIP) was downloaded by someone other than its
/// holder.
pub const CERTIFICATE_DOWNLOADED: &str = "certificate_downloaded";

/// Every action that records a read of personal data.
pub const READ_ACTIONS: [&str; 3] = [
    NATIONAL_ID_REVEALED,
    PEOPLE_EXPORTED,
    CERTIFICATE_DOWNLOADED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_actions_are_distinct() {
        let mut all = READ_ACTIONS.to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), READ_ACTIONS.len());
    }
}
