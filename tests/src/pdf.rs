//! Reading a printed page back: [`pages`] turns a PDF into the text of
//! each page with poppler's `pdftotext` (Debian `poppler-utils`, installed
//! by `.ci/run`), for the panel pack's test (issue 15). Whitespace is
//! collapsed to single spaces, so that a test matches words, not layout.

use std::io::Write as _;
use std::process::Command;

use crate::browser::in_ci;

/// The text of each page of `pdf`, whitespace collapsed. `None` (after a
/// loud message) when `pdftotext` is missing and `CI` is not `true`;
/// under `CI=true` a missing tool is a failure.
pub fn pages(pdf: &[u8]) -> Option<Vec<String>> {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    file.write_all(pdf).expect("the PDF written");
    let out = match Command::new("pdftotext")
        .arg("-layout")
        .arg(file.path())
        .arg("-")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            let banner = format!(
                "\n{line}\nPDF TEXT NOT CHECKED: pdftotext missing ({e}).\n\
                 apt-get install poppler-utils (.ci/run installs it).\n{line}\n",
                line = "!".repeat(72)
            );
            assert!(!in_ci(), "{banner}(CI=true: a missing tool is a failure)");
            eprintln!("{banner}");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(split(&String::from_utf8_lossy(&out.stdout)))
}

/// `pdftotext`'s output split at its form feeds (one per page), each
/// page's whitespace collapsed; the empty tail after the last is dropped.
pub fn split(text: &str) -> Vec<String> {
    let mut pages: Vec<String> = text
        .split('\u{c}')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    if pages.last().is_some_and(String::is_empty) {
        pages.pop();
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_at_form_feeds_with_whitespace_collapsed() {
        let text = "Chronology for  nhs:1\n\n   Page 1 of 2\u{c}Date   Headline\nPage 2 of 2\u{c}";
        assert_eq!(
            split(text),
            [
                "Chronology for nhs:1 Page 1 of 2",
                "Date Headline Page 2 of 2"
            ]
        );
        assert_eq!(split(""), Vec::<String>::new());
    }
}
