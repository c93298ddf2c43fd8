-- API tokens can be revoked (`user revoke`): a revoked user's token stops
-- working at once; the row stays, so the access log's names still resolve.
-- `user rotate` replaces token_hash in place.
ALTER TABLE users ADD COLUMN revoked_at INTEGER;
ALTER TABLE users ADD COLUMN revoked_reason TEXT;
