-- Certificates whose PDF digest is not recorded yet: issuance records it right after its commit,
-- so only a crash between the two leaves one, and start-up finds those through this index.
CREATE INDEX certificates_without_digest_idx ON certificates (id) WHERE pdf_sha256 IS NULL;
