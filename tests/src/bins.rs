//! Where the built `hearth-server` and `hearth-agent` binaries are: next to
//! the test executable's `deps/` folder, in `target/<profile>/`.

use std::path::PathBuf;

/// The path of the workspace binary `name`.
pub fn path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in target/<profile>/deps");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built; run `cargo build --bins` (cargo test --workspace does it)",
        bin.display()
    );
    bin
}
