//! [`Thousands`]: a count written with thousands separators, as every
//! limit in an error message is ("at most 1,000 bytes"). A leaf module:
//! [`crate::bounded`] and [`crate::error`] both use it.

use core::fmt;

/// Formats a count with thousands separators: `1342` as "1,342".
#[derive(Debug, Clone, Copy)]
pub struct Thousands(pub usize);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // usize::MAX has 20 digits; group from the right.
        let mut digits = [0u8; 20];
        let mut n = self.0;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for i in (0..len).rev() {
            write!(f, "{}", digits[i] as char)?;
            if i > 0 && i % 3 == 0 {
                f.write_str(",")?;
            }
        }
        Ok(())
    }
}
