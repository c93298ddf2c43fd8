-- 0008: the device's caseload (issue 17): the children its worker (or its
-- room) works with, their households, alerts and tasks, as the server
-- signed it at the last sync.
--
-- One row. The caseload (postcard) is sealed with the data key exactly
-- like a record body (XChaCha20-Poly1305 under the data key's AEAD subkey,
-- the slot `caseload.sealed` and `issued_at` bound in as associated data,
-- so the clear `issued_at` cannot be changed without the seal failing to
-- open). Only the server's issue time and when it was stored are in the
-- clear. A verified caseload replaces the row; revocation and `purge`
-- delete it (`secure_delete` zeroes its pages).
CREATE TABLE caseload (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    issued_at INTEGER NOT NULL,
    stored_at INTEGER NOT NULL,
    sealed    BLOB    NOT NULL CHECK (length(sealed) > 0)
) STRICT;
