//! Fixture builders: rows a test needs that no quick HTTP call makes, inserted through the same
//! functions production uses (after crates.io's `crates_io_test_utils::builders`).

use cascade::db::certificates::{self as rows, NewCertificateRow};
use cascade::db::schema::{certificates, courses, signing_keys};
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use uuid::Uuid;

use super::{date, TestApp};

/// What a built certificate has become since it was issued.
enum Status {
    Valid,
    Revoked(String),
    Superseded,
}

/// A certificate row for a test, without going through a cohort. Real issuance signs claims and
/// renders a PDF; these rows carry empty claims and a dummy signature, so they serve as a
/// master trainer's qualification (lineage, instructor checks, downstream), not as a download.
///
/// ```ignore
/// let old = CertificateBuilder::master_trainer(holder).superseded().insert(&app);
/// CertificateBuilder::master_trainer(holder).correcting(old).insert(&app);
/// ```
pub struct CertificateBuilder {
    holder: Uuid,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    status: Status,
    supersedes: Option<Uuid>,
    tier: &'static str,
}

impl CertificateBuilder {
    /// A valid master-trainer certificate of Bộ Nội vụ for `holder`, issued on 1 January 2026
    /// and valid for two years.
    pub fn master_trainer(holder: Uuid) -> Self {
        CertificateBuilder {
            holder,
            issued_on: date(2026, 1, 1),
            valid_until: date(2028, 1, 1),
            status: Status::Valid,
            supersedes: None,
            tier: "master_trainer",
        }
    }

    /// A valid propagandist certificate for `holder`, issued on 1 January 2027 and valid for two
    /// years (issued here by Bộ Nội vụ's stand-in key, like the master trainers').
    pub fn propagandist(holder: Uuid) -> Self {
        CertificateBuilder {
            issued_on: date(2027, 1, 1),
            valid_until: date(2029, 1, 1),
            tier: "propagandist",
            ..Self::master_trainer(holder)
        }
    }

    pub fn issued_on(mut self, issued_on: NaiveDate) -> Self {
        self.issued_on = issued_on;
        self
    }

    pub fn valid_until(mut self, valid_until: NaiveDate) -> Self {
        self.valid_until = valid_until;
        self
    }

    /// Revoked by its issuer after issue.
    pub fn revoked(mut self, reason: &str) -> Self {
        self.status = Status::Revoked(reason.to_string());
        self
    }

    /// Replaced since by a correction.
    pub fn superseded(mut self) -> Self {
        self.status = Status::Superseded;
        self
    }

    /// A correction of `earlier` (which the test marks [`superseded`](Self::superseded)).
    pub fn correcting(mut self, earlier: Uuid) -> Self {
        self.supersedes = Some(earlier);
        self
    }

    /// The status by its stored name: `valid`, `revoked` or `superseded`.
    pub fn status(self, status: &str) -> Self {
        match status {
            "valid" => self,
            "revoked" => self.revoked("test"),
            "superseded" => self.superseded(),
            other => panic!("no certificate status {other:?}"),
        }
    }

    /// Inserts the certificate (with a course of its own) through
    /// [`cascade::db::certificates::insert`]; its id.
    pub fn insert(self, app: &TestApp) -> Uuid {
        let mut conn = app.db();
        // the key production registers is the app's own; these rows name a stand-in
        diesel::insert_into(signing_keys::table)
            .values((
                signing_keys::kid.eq("test-key"),
                signing_keys::public_key.eq(vec![7u8; 32]),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .expect("signing key");
        let course_title = "Bồi dưỡng giảng viên nguồn về BHXH";
        let curriculum_version = "Luật BHXH 2024";
        // by hand until courses have a named insert in `cascade::db` for this to call
        let course_id: Uuid = diesel::insert_into(courses::table)
            .values((
                courses::code.eq(format!(
                    "MT-{}",
                    &Uuid::new_v4().simple().to_string()[..8].to_uppercase()
                )),
                courses::title.eq(course_title),
                courses::tier.eq(self.tier),
                courses::curriculum_version.eq(curriculum_version),
                courses::required_hours.eq(16),
                courses::min_attendance_percent.eq(80),
                courses::pass_score.eq(50),
                courses::certificate_validity_months.eq(24),
            ))
            .returning(courses::id)
            .get_result(&mut conn)
            .expect("course");
        let existing: i64 = certificates::table
            .count()
            .get_result(&mut conn)
            .expect("count certificates");
        let number = i32::try_from(existing).expect("certificate count") + 1;
        let year = self.issued_on.year();
        // "-T" keeps these serials apart from the ones real issuance gives Bộ Nội vụ
        let serial = format!("{number:06}/{year}/GCN-BNV-T");
        let verification_code = cascade::domain::certificates::new_verification_code();
        let id = rows::insert(
            &mut conn,
            &NewCertificateRow {
                id: Uuid::new_v4(),
                serial: &serial,
                issuer_id: app.org("BNV"),
                serial_year: year,
                serial_number: number,
                verification_code: &verification_code,
                holder_id: self.holder,
                enrollment_id: None,
                course_id,
                cohort_id: None,
                tier: self.tier,
                holder_name: "Nguyễn Văn Giảng",
                holder_birth_date: None,
                holder_workplace: "Bảo hiểm xã hội Thành phố Hà Nội",
                course_title,
                curriculum_version,
                issuer_name: "Bộ Nội vụ",
                signer_name: "Nguyễn Văn Ký",
                signer_title: "THỨ TRƯỞNG",
                cohort_starts_on: self.issued_on,
                cohort_ends_on: self.issued_on,
                place: "Hà Nội",
                issued_on: self.issued_on,
                valid_until: self.valid_until,
                supersedes_id: self.supersedes,
                claims: b"{}",
                signature: &[0u8; 64],
                kid: "test-key",
            },
        )
        .expect("insert certificate");
        // the reports' summary, as issuance keeps it
        cascade::db::coverage_summary::holders_changed(&mut conn, &[self.holder])
            .expect("coverage summary");
        match self.status {
            Status::Valid => {}
            Status::Revoked(reason) => app.revoke_in_database(id, &reason),
            Status::Superseded => {
                diesel::update(certificates::table.find(id))
                    .set((
                        certificates::status.eq("superseded"),
                        certificates::ended_on.eq(super::test_today()),
                    ))
                    .execute(&mut conn)
                    .expect("supersede certificate");
                cascade::db::coverage_summary::holders_changed(&mut conn, &[self.holder])
                    .expect("coverage summary");
            }
        }
        id
    }
}
