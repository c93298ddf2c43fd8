//! Passwords: [`hash`] (Argon2id, as a PHC string the store keeps) and
//! [`verify`], which takes as long for an unknown user or an account with
//! no password as for a real one, so the time of a refusal does not say
//! which names exist.
//!
//! The cost is OWASP's minimum for Argon2id on a server: 19 MiB of memory,
//! 2 passes, 1 lane ([`MEMORY_KIB`], [`PASSES`], [`LANES`]): some tens of
//! milliseconds per sign-in on one core, run off the async workers. A
//! stored hash keeps its own parameters, so raising them later only
//! affects passwords set from then on.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::{OsRng, RngCore};

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most bytes a password may have (hashing a huge one wastes time).
pub const MAX_BYTES: usize = 1_024;
/// Argon2id memory, KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1_024;
/// Argon2id passes.
pub const PASSES: u32 = 2;
/// Argon2id lanes.
pub const LANES: u32 = 1;

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadPassword {
    /// Too short.
    #[error("the password must have at least {MIN_CHARS} characters; it has {0}")]
    TooShort(usize),
    /// Too long.
    #[error("the password must have at most {MAX_BYTES} bytes")]
    TooLong,
    /// A control character (a pasted line break or escape).
    #[error("the password holds a control character (a line break, tab or escape); type it again")]
    Control,
}

/// Checks a new password's length and characters.
pub fn check(password: &str) -> Result<(), BadPassword> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(BadPassword::TooShort(chars));
    }
    if password.len() > MAX_BYTES {
        return Err(BadPassword::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(BadPassword::Control);
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .expect("the Argon2 parameters are within the crate's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn phc(password: &[u8]) -> String {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    argon2()
        .hash_password(password, &salt)
        .expect("Argon2id hashes any password of bounded length")
        .to_string()
}

/// A checked password's Argon2id PHC string (a fresh random salt).
pub fn hash(password: &str) -> Result<String, BadPassword> {
    check(password)?;
    Ok(phc(password.as_bytes()))
}

/// A hash no password is known for: verified against when there is no
/// real one, so that the refusal takes as long.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    phc(&secret)
});

/// Whether `password` matches `stored` (a PHC string). With no stored
/// hash, or one that does not parse, the same work is done against a
/// dummy hash and the answer is no.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let real = stored.and_then(|s| PasswordHash::new(s).ok());
    let dummy = PasswordHash::new(&DUMMY).expect("the dummy hash parses");
    let bytes = password.as_bytes();
    let bytes = &bytes[..bytes.len().min(MAX_BYTES)];
    match real {
        Some(h) => argon2().verify_password(bytes, &h).is_ok() && password.len() <= MAX_BYTES,
        None => {
            let _ = argon2().verify_password(bytes, &dummy);
            false
        }
    }
}

/// Makes the dummy hash now, so that the first sign-in does not take
/// twice as long as the others (which would tell a first unknown name).
pub fn warm_up() {
    LazyLock::force(&DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_records_the_cost() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterY", Some(&h)));
        assert!(!verify("", Some(&h)));
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash("correct horse battery").unwrap());
    }

    #[test]
    fn no_hash_or_a_broken_one_never_verifies() {
        assert!(!verify("anything at all", None));
        assert!(!verify("anything at all", Some("not a phc string")));
        assert!(!verify("", Some("")));
    }

    #[test]
    fn new_passwords_are_checked() {
        assert_eq!(check("short"), Err(BadPassword::TooShort(5)));
        // Characters, not bytes: twelve accented letters pass.
        assert_eq!(check("éééééééééééé"), Ok(()));
        assert_eq!(check("elevenchars"), Err(BadPassword::TooShort(11)));
        assert_eq!(check("twelve chars"), Ok(()));
        assert_eq!(check(&"x".repeat(MAX_BYTES + 1)), Err(BadPassword::TooLong));
        assert_eq!(check("twelve\tchars!"), Err(BadPassword::Control));
        assert!(hash("short").is_err());
    }
}
