DELETE FROM organizations WHERE kind = 'branch' AND code LIKE 'BHXH-%';
DELETE FROM organizations WHERE code IN ('BNV', 'BHXH');
DELETE FROM provinces;
