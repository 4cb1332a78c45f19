//! The web console (`web/`): its TypeScript client is generated from the checked-in IDL and never drifts from it.

use std::path::PathBuf;
use std::process::Command;

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// The client under `web/src/client/generated` is what Codama renders from `app-sdk/idl/timelock.json` now: a
/// program change that reaches the IDL (`make idl`) must reach the client too (`make client`).
#[test]
fn generated_typescript_client_matches_the_idl() {
    let web = web_dir();
    assert!(web.join("node_modules/codama").exists(), "run `make test` (it installs web/ with npm ci)");
    let output = Command::new("node")
        .args(["scripts/generate-client.mjs", "--check"])
        .current_dir(&web)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
