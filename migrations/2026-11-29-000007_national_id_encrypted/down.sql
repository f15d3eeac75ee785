-- Back to the plain column. SQL cannot open the sealed numbers (it has no key): going down loses
-- every CCCD stored since the up migration, so export them first if they are needed.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_national_id_sealed;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_national_id_sealed_together;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_national_id_index_length;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_national_id_index_key;
ALTER TABLE users DROP COLUMN IF EXISTS national_id_index;
ALTER TABLE users DROP COLUMN IF EXISTS national_id_cipher;
