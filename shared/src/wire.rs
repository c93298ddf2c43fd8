//! The sync transport's compression (issue 20, protocol 2): what the agent
//! and the server agree on about bodies *on the wire*, never about records.
//!
//! - [`PROTOCOL_HEADER`] / [`PROTOCOL_VERSION`]: every answer of a server
//!   that speaks protocol 2 carries `Hearth-Protocol: 2`. An agent
//!   compresses its request bodies only after an answer said so, so its
//!   first request to an old server is the plain body that server reads.
//! - [`BATCH_RECORDS_HEADER`]: how many records the server takes in one
//!   batch, so that an agent sends fewer, larger batches (fewer commits)
//!   without ever sending one the server refuses.
//! - [`Encoding`]: a request's `Content-Encoding`, read strictly (absent or
//!   `identity` is plain, `deflate` is compressed, anything else is
//!   [`UnsupportedEncoding`], which the server answers with 415).
//! - [`accepts_deflate`]: whether an `Accept-Encoding` asks for compressed
//!   answers.
//! - [`compress`] and [`decompress`] / [`decompress_with`]: DEFLATE in its
//!   zlib wrapper (RFC 1950, which is what HTTP's `deflate` names), by
//!   `miniz_oxide`. The decoder is **capped**: it refuses, with
//!   [`WireError::TooLarge`], any body that would inflate past a given
//!   limit, and its output grows by doubling, so a 100 KB bomb costs at
//!   most the limit, never the gigabyte it encodes. [`decompress_with`]
//!   asks the caller before each growth, which is how the server charges
//!   the decoded bytes to its in-flight budget as they appear.
//!
//! Why compressing the transport leaves the evidence alone: a record's
//! signed bytes are inside the body that is compressed, and the receiver
//! inflates the body back to exactly the bytes that were sent before it
//! decodes anything. The server verifies and stores those bytes, the same
//! as from an old agent; `docs/wire-format.md` does not change.
//!
//! Why DEFLATE and not zstd: on the bench corpus a batch of 100 records
//! compresses to well under the 0.6× the issue asks (figures in
//! `docs/PERFORMANCE.md`), and `miniz_oxide` adds a fraction of what the
//! pure-Rust zstd encoder adds to the tablet's binary, which has under
//! 90 KB to spare in its 6 MiB.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress as inflate, inflate_flags};

/// The header every protocol-2 answer carries, lower case as HTTP/1 header
/// names compare case-insensitively and the `http` crate stores them.
pub const PROTOCOL_HEADER: &str = "hearth-protocol";

/// This protocol's version, the value of [`PROTOCOL_HEADER`].
pub const PROTOCOL_VERSION: &str = "2";

/// The header with which a server says how many records it takes in one
/// sync batch, whatever their sizes (its `--max-batch-records`, or fewer
/// if its body limit holds fewer records of the largest size it accepts):
/// a decimal count, on its enrolment answer and on every answer of its
/// device routes. An agent sends at most that many, and at most its own
/// cap; an agent that has not been told sends the 100 that every server
/// has taken since the first milestone.
pub const BATCH_RECORDS_HEADER: &str = "hearth-batch-records";

/// The one compressed encoding: DEFLATE in the zlib wrapper (RFC 9110
/// §8.4.1.2).
pub const DEFLATE: &str = "deflate";

/// The encodings a server of this protocol accepts in `Content-Encoding`,
/// as its 415 answer names them.
pub const ACCEPTED_ENCODINGS: &str = "deflate, identity (or no Content-Encoding)";

/// miniz's level 6, zlib's default: within 1 % of level 9 on a batch of
/// records, and a few milliseconds for a 100-record batch on an armv7
/// tablet. Level 1 gives up several points of ratio for time a tablet
/// does not lack (it sends one batch while the next is built).
pub const LEVEL: u8 = 6;

/// A body's encoding on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As it is: no `Content-Encoding`, or `identity`.
    Identity,
    /// [`DEFLATE`]: zlib-wrapped DEFLATE.
    Deflate,
}

/// A `Content-Encoding` this protocol does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedEncoding {
    /// The header's value, as sent.
    pub value: String,
}

impl core::fmt::Display for UnsupportedEncoding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Content-Encoding is {:?}, which this server does not decode; the encodings accepted are {ACCEPTED_ENCODINGS}",
            self.value
        )
    }
}

impl std::error::Error for UnsupportedEncoding {}

impl Encoding {
    /// A request's encoding from its `Content-Encoding` value (`None` when
    /// the header is absent). One coding only: a list (`deflate, deflate`)
    /// is refused rather than inflated twice.
    pub fn from_header(value: Option<&str>) -> Result<Self, UnsupportedEncoding> {
        let Some(value) = value else {
            return Ok(Self::Identity);
        };
        let coding = value.trim();
        if coding.eq_ignore_ascii_case(DEFLATE) {
            Ok(Self::Deflate)
        } else if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
            Ok(Self::Identity)
        } else {
            Err(UnsupportedEncoding {
                value: value.to_string(),
            })
        }
    }

    /// The `Content-Encoding` value to send, or `None` for a plain body.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Deflate => Some(DEFLATE),
        }
    }
}

/// Whether an `Accept-Encoding` value lists `deflate` with a non-zero
/// weight (`deflate`, `gzip, deflate;q=0.5`; not `deflate;q=0`).
pub fn accepts_deflate(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if !coding.eq_ignore_ascii_case(DEFLATE) {
            return false;
        }
        parts.all(|param| {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            !name.trim().eq_ignore_ascii_case("q")
                || value.trim().parse::<f32>().is_ok_and(|q| q > 0.0)
        })
    })
}

/// `body` compressed: zlib-wrapped DEFLATE at [`LEVEL`].
pub fn compress(body: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(body, LEVEL)
}

/// Why a compressed body was not inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// It inflates to more than `limit` bytes.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// It is not a whole zlib stream (truncated, corrupt, a wrong
    /// checksum, or bytes after its end).
    Corrupt {
        /// What was wrong, for the refusal's message.
        reason: &'static str,
    },
    /// The caller's `grow` refused more room (the server's budget).
    Refused,
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(
                f,
                "the compressed body inflates to more than the limit of {limit} bytes"
            ),
            Self::Corrupt { reason } => write!(
                f,
                "the body is not zlib-wrapped DEFLATE as Content-Encoding: deflate says ({reason})"
            ),
            Self::Refused => f.write_str("no room to inflate the body"),
        }
    }
}

impl std::error::Error for WireError {}

/// `input` inflated, at most `limit` bytes.
pub fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
    decompress_with(input, limit, |_| true)
}

/// The smallest output buffer a decode starts with.
const FIRST_OUTPUT: usize = 8 * 1024;

/// `input` inflated, at most `limit` bytes; before the output buffer grows
/// by `n` bytes `grow(n)` is asked, and a `false` stops the decode with
/// [`WireError::Refused`]. The buffer starts at twice the input (at least
/// 8 KiB) and doubles, never past `limit`, so what is asked for adds up to
/// the buffer's size, which is below twice the output or `limit`.
pub fn decompress_with(
    input: &[u8],
    limit: usize,
    mut grow: impl FnMut(usize) -> bool,
) -> Result<Vec<u8>, WireError> {
    use inflate_flags::{TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF};
    let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let first = input
        .len()
        .saturating_mul(2)
        .max(FIRST_OUTPUT)
        .min(limit.max(1));
    if !grow(first) {
        return Err(WireError::Refused);
    }
    let mut out = vec![0u8; first];
    let mut state = Box::<DecompressorOxide>::default();
    let mut rest = input;
    let mut out_pos = 0;
    loop {
        let (status, consumed, produced) = inflate(&mut state, rest, &mut out, out_pos, flags);
        out_pos += produced;
        rest = rest.get(consumed..).unwrap_or_default();
        match status {
            TINFLStatus::Done if rest.is_empty() => {
                out.truncate(out_pos);
                return Ok(out);
            }
            TINFLStatus::Done => {
                return Err(WireError::Corrupt {
                    reason: "bytes after the end of the stream",
                });
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= limit {
                    return Err(WireError::TooLarge { limit });
                }
                let next = out.len().saturating_mul(2).min(limit);
                if !grow(next - out.len()) {
                    return Err(WireError::Refused);
                }
                out.resize(next, 0);
            }
            TINFLStatus::Adler32Mismatch => {
                return Err(WireError::Corrupt {
                    reason: "its Adler-32 checksum does not match",
                });
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(WireError::Corrupt {
                    reason: "the stream is cut short",
                });
            }
            _ => {
                return Err(WireError::Corrupt {
                    reason: "invalid compressed data",
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Vec<u8> {
        let words = [
            "arrived", "hungry", "with", "mum", "seen", "by", "nurse", "and", "bruise",
        ];
        let mut out = Vec::new();
        let mut i = 7usize;
        while out.len() < n {
            i = i.wrapping_mul(31).wrapping_add(17) % 1009;
            out.extend_from_slice(words[i % words.len()].as_bytes());
            out.push(b' ');
        }
        out.truncate(n);
        out
    }

    #[test]
    fn a_body_round_trips_and_shrinks() {
        for n in [0, 1, 100, 8_192, 100_000] {
            let body = text(n);
            let packed = compress(&body);
            assert_eq!(decompress(&packed, n.max(1)).unwrap(), body, "{n} bytes");
            if n >= 8_192 {
                assert!(packed.len() * 2 < n, "{} of {n}", packed.len());
            }
        }
    }

    /// 100 KB that would inflate to 1 GB: refused at the limit, and the
    /// decoder asked for no more room than the limit.
    #[test]
    fn the_cap_refuses_a_bomb() {
        let zeros = vec![0u8; 100 * 1024 * 1024];
        let bomb = compress(&zeros);
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let limit = 4 * 1024 * 1024;
        let mut asked = 0usize;
        let r = decompress_with(&bomb, limit, |n| {
            asked += n;
            true
        });
        assert_eq!(r, Err(WireError::TooLarge { limit }));
        assert!(asked <= limit, "asked for {asked}");
    }

    #[test]
    fn exactly_the_limit_is_accepted_and_one_more_is_not() {
        let body = text(20_000);
        let packed = compress(&body);
        assert_eq!(decompress(&packed, 20_000).unwrap(), body);
        assert_eq!(
            decompress(&packed, 19_999),
            Err(WireError::TooLarge { limit: 19_999 })
        );
    }

    #[test]
    fn a_refusal_to_grow_stops_the_decode() {
        let packed = compress(&text(100_000));
        let mut calls = 0;
        let r = decompress_with(&packed, 1 << 20, |_| {
            calls += 1;
            calls < 2
        });
        assert_eq!(r, Err(WireError::Refused));
    }

    #[test]
    fn garbage_is_refused_with_an_error() {
        let body = text(5_000);
        let packed = compress(&body);
        let cases: [(&str, Vec<u8>); 5] = [
            ("not zlib", b"plain postcard bytes, not compressed".to_vec()),
            ("empty", Vec::new()),
            ("cut short", packed[..packed.len() / 2].to_vec()),
            ("checksum", {
                let mut p = packed.clone();
                let last = p.len() - 1;
                p[last] ^= 0xff;
                p
            }),
            ("trailing", {
                let mut p = packed.clone();
                p.push(0);
                p
            }),
        ];
        for (what, input) in cases {
            let r = decompress(&input, 1 << 20);
            assert!(matches!(r, Err(WireError::Corrupt { .. })), "{what}: {r:?}");
        }
    }

    #[test]
    fn content_encoding_is_read_strictly() {
        assert_eq!(Encoding::from_header(None), Ok(Encoding::Identity));
        assert_eq!(
            Encoding::from_header(Some("identity")),
            Ok(Encoding::Identity)
        );
        assert_eq!(
            Encoding::from_header(Some(" Deflate ")),
            Ok(Encoding::Deflate)
        );
        for bad in ["gzip", "zstd", "br", "deflate, deflate", "x-deflate"] {
            let e = Encoding::from_header(Some(bad)).unwrap_err();
            assert_eq!(e.value, bad);
            let shown = e.to_string();
            assert!(
                shown.contains("Content-Encoding") && shown.contains("deflate"),
                "{shown}"
            );
        }
        assert_eq!(Encoding::Deflate.header_value(), Some("deflate"));
        assert_eq!(Encoding::Identity.header_value(), None);
    }

    #[test]
    fn accept_encoding_lists_are_read() {
        assert!(accepts_deflate("deflate"));
        assert!(accepts_deflate("gzip, DEFLATE;q=0.5"));
        assert!(accepts_deflate("br,deflate ; q=1"));
        assert!(!accepts_deflate("deflate;q=0"));
        assert!(!accepts_deflate("gzip, br"));
        assert!(!accepts_deflate(""));
        assert!(!accepts_deflate("x-deflate"));
    }
}
