-- The CCCD leaves the clear: `national_id_cipher` holds it sealed (XChaCha20-Poly1305 under the
-- data key of CASCADE_DATA_KEY_FILE, with the key's id, so a rotation tells old from new), and
-- `national_id_index` its keyed blind index (HMAC-SHA-256), which keeps one person per number
-- and finds a person by exact number. Both stay nullable: no CCCD, or one erased on retirement.
--
-- SQL does not hold the key, so the numbers already stored in `national_id` are sealed by
-- Cascade itself right after the migrations run (`service::people::seal_plain_national_ids`, at
-- every start of `serve` and in `migrate`), in one transaction that also sets every plain value
-- to NULL and then adds the CHECK `users_national_id_sealed (national_id IS NULL)`, so that no
-- code path can write one in clear again. The emptied column stays for this release (a server
-- of the previous release started against this database would otherwise fail on a missing
-- column rather than on the CHECK); a later release drops it.
ALTER TABLE users ADD COLUMN national_id_cipher BYTEA;
ALTER TABLE users ADD COLUMN national_id_index BYTEA;
ALTER TABLE users ADD CONSTRAINT users_national_id_index_key UNIQUE (national_id_index);
-- a blind index is an HMAC-SHA-256 (32 bytes), sealed bytes at least a header and a tag
ALTER TABLE users ADD CONSTRAINT users_national_id_index_length
    CHECK (national_id_index IS NULL OR octet_length(national_id_index) = 32);
ALTER TABLE users ADD CONSTRAINT users_national_id_sealed_together
    CHECK ((national_id_cipher IS NULL) = (national_id_index IS NULL));
