//! The test plugins (`tests/plugins/*`), built for `wasm32-wasip2` once per test run into
//! the workspace's target directory, and found there by name.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every test plugin crate.
const CRATES: [&str; 6] = ["reference", "chaos", "tagger", "counter", "counter-v2", "miscount"];

/// The workspace's target directory (the parent of the integration tests' temp dir).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp has a parent").to_path_buf()
}

/// The built `.wasm` of test plugin `name` (e.g. `"chaos"`), building all of them the
/// first time.
pub fn wasm(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command.args(["build", "--profile", "plugin", "--target", "wasm32-wasip2", "--target-dir"]).arg(target_dir());
        for krate in CRATES {
            command.args(["-p", &format!("test-plugin-{krate}")]);
        }
        let status = command.status().expect("run cargo to build the test plugins");
        assert!(status.success(), "building the test plugins failed (is the wasm32-wasip2 target installed? `make plugins` installs it)");
    });
    let path = target_dir().join("wasm32-wasip2/plugin").join(format!("test_plugin_{}.wasm", name.replace('-', "_")));
    assert!(path.exists(), "{} was not built", path.display());
    path
}
