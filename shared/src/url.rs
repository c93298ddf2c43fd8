//! Percent-encoding (RFC 3986) of text a page puts into a URL: a child
//! reference, a user name or a grant in a link or a form's action.

use alloc::string::String;
use core::fmt::Write;

/// `s` with every byte percent-encoded (`%3A`) except the unreserved
/// characters (letters, digits, `-`, `.`, `_`, `~`) and the bytes in
/// `keep` (such as `:` in a path segment, or `/` in a path carried in a
/// query value). Decoding gives back `s` whatever `keep` is.
pub fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_and_those_kept_stay() {
        assert_eq!(
            encode("local:LA:a/b?c#d e~", b""),
            "local%3ALA%3Aa%2Fb%3Fc%23d%20e~"
        );
        assert_eq!(encode("local:LA:a/b", b":"), "local:LA:a%2Fb");
        assert_eq!(encode("/records?x=1", b"/"), "/records%3Fx%3D1");
        assert_eq!(encode("é", b""), "%C3%A9");
    }
}
