//! The register's operations, shared by the CLI and HTTP: each checks its
//! input (naming the field and the fix), writes the read or change to the
//! register log, and applies it through the store. (Issue 17: filled in
//! by the register work.)
