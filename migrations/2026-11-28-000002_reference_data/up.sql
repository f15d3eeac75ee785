-- Reference data present in every database: the 34 provinces (provinces.md), the state management
-- agency BNV, the implementing agency BHXH and its 34 provincial branches BHXH-<short>.
INSERT INTO provinces (code, short, name, styled) VALUES
    ('01', 'HN', 'Hà Nội', 'Thành phố'),
    ('04', 'CB', 'Cao Bằng', 'Tỉnh'),
    ('08', 'TQ', 'Tuyên Quang', 'Tỉnh'),
    ('11', 'DB', 'Điện Biên', 'Tỉnh'),
    ('12', 'LC', 'Lai Châu', 'Tỉnh'),
    ('14', 'SL', 'Sơn La', 'Tỉnh'),
    ('15', 'LCA', 'Lào Cai', 'Tỉnh'),
    ('19', 'TN', 'Thái Nguyên', 'Tỉnh'),
    ('20', 'LS', 'Lạng Sơn', 'Tỉnh'),
    ('22', 'QNI', 'Quảng Ninh', 'Tỉnh'),
    ('24', 'BN', 'Bắc Ninh', 'Tỉnh'),
    ('25', 'PT', 'Phú Thọ', 'Tỉnh'),
    ('31', 'HP', 'Hải Phòng', 'Thành phố'),
    ('33', 'HY', 'Hưng Yên', 'Tỉnh'),
    ('37', 'NB', 'Ninh Bình', 'Tỉnh'),
    ('38', 'TH', 'Thanh Hóa', 'Tỉnh'),
    ('40', 'NA', 'Nghệ An', 'Tỉnh'),
    ('42', 'HT', 'Hà Tĩnh', 'Tỉnh'),
    ('44', 'QT', 'Quảng Trị', 'Tỉnh'),
    ('46', 'HUE', 'Huế', 'Thành phố'),
    ('48', 'DNG', 'Đà Nẵng', 'Thành phố'),
    ('51', 'QNG', 'Quảng Ngãi', 'Tỉnh'),
    ('52', 'GL', 'Gia Lai', 'Tỉnh'),
    ('56', 'KH', 'Khánh Hòa', 'Tỉnh'),
    ('66', 'DL', 'Đắk Lắk', 'Tỉnh'),
    ('68', 'LD', 'Lâm Đồng', 'Tỉnh'),
    ('75', 'DNA', 'Đồng Nai', 'Tỉnh'),
    ('79', 'HCM', 'Hồ Chí Minh', 'Thành phố'),
    ('80', 'TNI', 'Tây Ninh', 'Tỉnh'),
    ('82', 'DT', 'Đồng Tháp', 'Tỉnh'),
    ('86', 'VL', 'Vĩnh Long', 'Tỉnh'),
    ('91', 'AG', 'An Giang', 'Tỉnh'),
    ('92', 'CT', 'Cần Thơ', 'Thành phố'),
    ('96', 'CM', 'Cà Mau', 'Tỉnh');

INSERT INTO organizations (code, name, kind, parent_id, province_code, signer_title) VALUES
    ('BNV', 'Bộ Nội vụ', 'state_agency', NULL, NULL, 'KT. BỘ TRƯỞNG
THỨ TRƯỞNG'),
    ('BHXH', 'Bảo hiểm xã hội Việt Nam', 'implementing_agency', NULL, NULL, 'KT. TỔNG GIÁM ĐỐC
PHÓ TỔNG GIÁM ĐỐC');

INSERT INTO organizations (code, name, kind, parent_id, province_code, signer_title)
SELECT 'BHXH-' || p.short, 'Bảo hiểm xã hội ' || p.styled || ' ' || p.name, 'branch',
       (SELECT id FROM organizations WHERE code = 'BHXH'), p.code, 'GIÁM ĐỐC'
FROM provinces p
ORDER BY p.code;
