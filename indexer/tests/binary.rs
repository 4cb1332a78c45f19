//! The shipped binary: it explains itself, and bad settings end it with a message, not a panic. (Also what
//! makes `cargo test` build it for the crash drill, which kills it.)

use std::process::Command;

#[test]
fn the_binary_explains_itself_and_refuses_bad_settings_plainly() {
    let binary = env!("CARGO_BIN_EXE_timelock-indexer");
    let help = Command::new(binary).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("api-only"));
    let bad = Command::new(binary).env("TIMELOCK_INDEXER_COMMITMENT", "eventually").output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("commitment") && !stderr.contains("panicked"), "{stderr}");
}
