//! How a person reads the machine's words, in Vietnamese: fields, roles, statuses, tiers and
//! categories. Messages and pages both say them from here; the JSON keeps the machine's words.

use super::people::Role;

/// The name of a field, as a sentence about it begins ("Họ và tên không được để trống."): the
/// fields whose messages come from one rule for many fields (free text, above all).
pub fn field(name: &str) -> &'static str {
    match name {
        "full_name" => "Họ và tên",
        "username" => "Tên đăng nhập",
        "password" => "Mật khẩu",
        "current_password" => "Mật khẩu hiện tại",
        "new_password" => "Mật khẩu mới",
        "name" => "Tên đơn vị",
        "province" => "Mã tỉnh, thành phố",
        "signer_name" => "Họ tên người ký",
        "signer_title" => "Chức danh người ký",
        "title" => "Tên",
        "curriculum_version" => "Phiên bản chương trình",
        "location" => "Địa điểm",
        "campaign" => "Chiến dịch",
        "topic" => "Nội dung buổi học",
        "reason" => "Lý do",
        "q" => "Từ khóa tìm kiếm",
        _ => "Giá trị",
    }
}

/// A role's name as people say it.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Admin => "quản trị viên",
        Role::Coordinator => "điều phối đào tạo",
        Role::Hr => "cán bộ nhân sự",
        Role::Trainee => "học viên",
    }
}

/// An enrolment's status (and so the result of a course).
pub fn enrollment_status(status: &str) -> &'static str {
    match status {
        "enrolled" => "đang học",
        "withdrawn" => "đã rút",
        "completed" => "hoàn thành",
        "failed" => "không đạt",
        _ => "không rõ",
    }
}

/// A certificate's status as the public sees it.
pub fn certificate_status(status: &str) -> &'static str {
    match status {
        "valid" => "còn hiệu lực",
        "expired" => "đã hết hạn",
        "revoked" => "đã thu hồi",
        "superseded" => "đã được thay thế",
        _ => "không rõ",
    }
}

/// A cohort's status.
pub fn cohort_status(status: &str) -> &'static str {
    match status {
        "planned" => "dự kiến",
        "open" => "đang nhận học viên",
        "in_progress" => "đang học",
        "completed" => "đã kết thúc",
        "cancelled" => "đã hủy",
        _ => "không rõ",
    }
}

/// The programme tier a course or certificate belongs to.
pub fn tier(tier: &str) -> &'static str {
    match tier {
        "master_trainer" => "giảng viên nguồn",
        _ => "tuyên truyền viên",
    }
}

/// A person's category.
pub fn category(category: &str) -> &'static str {
    match category {
        "official" => "cán bộ",
        "civil_servant" => "công chức",
        "public_employee" => "viên chức",
        "reputable_person" => "người có uy tín",
        _ => "khác",
    }
}

/// A whole number as Vietnamese writes it, a dot between thousands ("50.000").
pub fn number(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_by_dots() {
        assert_eq!(number(7), "7");
        assert_eq!(number(100), "100");
        assert_eq!(number(10_000), "10.000");
        assert_eq!(number(1_234_567), "1.234.567");
    }
}
