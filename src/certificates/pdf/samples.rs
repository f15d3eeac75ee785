//! Certificate pages the unit tests render: a typical one, and one with long names and titles.

use chrono::NaiveDate;

use super::{CertificatePage, Instructor, Tier};

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(super) fn sample() -> CertificatePage {
    CertificatePage {
        certificate_id: uuid::Uuid::from_u128(0x6f1c_2a4e_8b3d_4e5f_9a1b_2c3d_4e5f_6a7b),
        serial: "000042/2027/GCN-BHXH-HN".into(),
        tier: Tier::Propagandist,
        issuer_parent_name: Some("Bảo hiểm xã hội Việt Nam".into()),
        issuer_name: "Bảo hiểm xã hội Thành phố Hà Nội".into(),
        holder_name: "Nguyễn Thị Hằng".into(),
        holder_birth_date: Some(date(1985, 4, 12)),
        holder_workplace: "Bảo hiểm xã hội Thành phố Hà Nội".into(),
        course_title: "Bồi dưỡng tuyên truyền viên về BHXH".into(),
        curriculum_version: "Luật BHXH 2024".into(),
        cohort_starts_on: date(2027, 5, 10),
        cohort_ends_on: date(2027, 5, 11),
        cohort_location: "Hà Nội".into(),
        place: "Hà Nội".into(),
        issued_on: date(2027, 5, 11),
        valid_until: date(2029, 5, 10),
        signer_title: "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC".into(),
        signer_name: "Trần Văn Ký".into(),
        instructors: vec![Instructor {
            name: "Nguyễn Văn Giảng".into(),
            certificate_serial: "000001/2027/GCN-BNV".into(),
        }],
        verify_url: "https://cascade.bhxh.example.vn/verify/K7Q2ABCDEFGH2345JKMN".into(),
        verification_code: "K7Q2ABCDEFGH2345JKMN".into(),
        embedded_claims:
            b"eyJhbGciOiJFZERTQSJ9.eyJzZXJpYWwiOiIwMDAwNDIifQ.c2lnbmF0dXJl\x00\xff binary tail"
                .to_vec(),
    }
}

pub(super) fn long_sample() -> CertificatePage {
    let mut page = sample();
    // 60 characters.
    page.holder_name = "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Trần Lê Phạm Huỳnh Hoàng".into();
    assert_eq!(page.holder_name.chars().count(), 60);
    // 160 characters.
    let title = "Bồi dưỡng nghiệp vụ tuyên truyền, phổ biến chính sách pháp luật về bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp cho đội ngũ tuyên truyền viên cơ sở năm 2027";
    page.course_title = title.chars().take(160).collect();
    assert_eq!(page.course_title.chars().count(), 160);
    page.holder_workplace = "Trung tâm Dịch vụ hành chính công và Chăm sóc khách hàng, Bảo hiểm xã hội Thành phố Hồ Chí Minh".into();
    page.instructors.push(Instructor {
        name: "Lê Thị Hương Giang".into(),
        certificate_serial: "000002/2027/GCN-BNV".into(),
    });
    page
}
