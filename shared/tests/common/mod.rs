//! What the integration tests of `hearth-shared` read from the repository:
//! its files, and the JSON examples of `docs/records.md` (the golden
//! vectors' source and the fuzzers' seeds).

use std::path::PathBuf;

/// `path`, relative to the repository's root.
pub fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

/// The ```json blocks of docs/records.md, in order.
pub fn doc_examples() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file("docs/records.md")).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```json" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            out.push(block.join("\n"));
        }
    }
    out
}
