//! The tablet app (`hearth-agent app`): touch forms served to the tablet's
//! own browser on loopback, over the same core as the command line.
//!
//! Being written for issue 14; see `/work/wt/ISSUE14.md` while it is.

pub mod forms;
