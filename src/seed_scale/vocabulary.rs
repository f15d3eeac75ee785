//! The words a national data set is made of: Vietnamese names, communes and wards, places,
//! outreach forms and reasons, each with how often it occurs.

use rand::Rng;

/// Family names with their approximate share of the population (per thousand).
const FAMILY_NAMES: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 35),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 25),
    ("Võ", 15),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 6),
    ("Trịnh", 4),
    ("Mai", 4),
    ("Lương", 3),
];

const MIDDLE_MALE: &[&str] = &[
    "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân", "Ngọc", "Duy",
];
const MIDDLE_FEMALE: &[&str] = &[
    "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Kim", "Hồng", "Thùy", "Mỹ",
];
const GIVEN_MALE: &[&str] = &[
    "Anh", "Bảo", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hiếu", "Hòa", "Hùng", "Huy",
    "Khang", "Khoa", "Kiên", "Long", "Lâm", "Mạnh", "Nam", "Nghĩa", "Phong", "Phúc", "Quang",
    "Quân", "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Toàn", "Trung", "Tuấn", "Tùng", "Việt",
    "Vinh", "Vũ",
];
const GIVEN_FEMALE: &[&str] = &[
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng", "Hương", "Huyền",
    "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương",
    "Quỳnh", "Tâm", "Thảo", "Thơ", "Thủy", "Trang", "Trâm", "Uyên", "Vân", "Vy", "Xuân", "Yến",
];

/// Place names that communes and wards across the country commonly carry.
pub const COMMUNES: &[&str] = &[
    "An Bình",
    "An Hòa",
    "An Khánh",
    "An Phú",
    "Bình An",
    "Bình Minh",
    "Cát Lái",
    "Cẩm Phả",
    "Đông Hòa",
    "Đông Sơn",
    "Đồng Tâm",
    "Hòa An",
    "Hòa Bình",
    "Hòa Lợi",
    "Hòa Phú",
    "Hồng Hà",
    "Hưng Long",
    "Kim Liên",
    "Long Biên",
    "Long Phước",
    "Minh Khai",
    "Nam Sơn",
    "Nghĩa Đô",
    "Ngọc Hà",
    "Phú Lợi",
    "Phú Mỹ",
    "Phú Thạnh",
    "Phước Long",
    "Quang Trung",
    "Tân Định",
    "Tân Hưng",
    "Tân Lập",
    "Tân Phong",
    "Tân Phú",
    "Tân Thành",
    "Thạch Bàn",
    "Thanh Bình",
    "Thanh Xuân",
    "Thịnh Liệt",
    "Thuận An",
    "Tiên Phong",
    "Trung Hòa",
    "Trường Xuân",
    "Vĩnh Hưng",
    "Vĩnh Phúc",
    "Xuân Hòa",
    "Xuân Phương",
    "Yên Hòa",
];

/// Ways an outreach activity is held, with their share (per hundred).
pub const FORMS: &[(&str, u32)] = &[
    ("direct_talk", 30),
    ("conference", 15),
    ("door_to_door", 20),
    ("online", 10),
    ("social_media", 15),
    ("short_video", 10),
];

/// The people one activity of a form plausibly reaches: (least, most).
pub fn audience_range(form: &str) -> (i32, i32) {
    match form {
        "direct_talk" => (5, 60),
        "conference" => (30, 300),
        "door_to_door" => (3, 30),
        "online" => (20, 500),
        "social_media" => (50, 3000),
        _ => (100, 5000),
    }
}

pub const OUTREACH_NOTES: &[&str] = &[
    "Tuyên truyền chính sách BHXH tự nguyện cho người lao động tự do.",
    "Phối hợp với hội phụ nữ xã tổ chức buổi nói chuyện.",
    "Giải đáp thắc mắc về chế độ hưu trí và trợ cấp một lần.",
    "Phát tờ rơi về BHYT học sinh, sinh viên.",
    "Đối thoại với chủ hộ kinh doanh về đóng BHXH bắt buộc.",
];

pub const REJECTION_REASONS: &[&str] = &[
    "Trùng với hoạt động đã ghi nhận.",
    "Số người tham dự không có căn cứ.",
    "Hoạt động không thuộc nội dung tuyên truyền BHXH.",
];

pub const REVOCATION_REASONS: &[&str] = &[
    "Cấp nhầm người.",
    "Kết quả kiểm tra không đạt khi phúc tra.",
    "Vi phạm quy chế bồi dưỡng.",
];

/// A person's category (official … other), with its share.
pub const CATEGORIES: &[(&str, u32)] = &[
    ("official", 20),
    ("civil_servant", 25),
    ("public_employee", 30),
    ("reputable_person", 15),
    ("other", 10),
];

/// Picks from a weighted list.
pub fn weighted<'a, T>(rng: &mut impl Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (item, w) in items {
        if roll < *w {
            return item;
        }
        roll -= w;
    }
    &items[items.len() - 1].0
}

pub fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// A believable full name: family, middle and given name of one sex.
pub fn full_name(rng: &mut impl Rng) -> String {
    let family = weighted(rng, FAMILY_NAMES);
    let (middle, given) = if rng.gen_bool(0.5) {
        (pick(rng, MIDDLE_MALE), pick(rng, GIVEN_MALE))
    } else {
        (pick(rng, MIDDLE_FEMALE), pick(rng, GIVEN_FEMALE))
    };
    format!("{family} {middle} {given}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn names_are_three_words_already_in_nfc() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let name = full_name(&mut rng);
            assert_eq!(name.split(' ').count(), 3, "{name}");
            assert_eq!(name.nfc().collect::<String>(), name);
        }
    }

    #[test]
    fn weighted_choice_follows_the_weights() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let items = [("rare", 1), ("common", 99)];
        let rare = (0..10_000)
            .filter(|_| *weighted(&mut rng, &items) == "rare")
            .count();
        assert!((50..=200).contains(&rare), "{rare}");
    }
}
