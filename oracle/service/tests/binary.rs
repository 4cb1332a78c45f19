//! The shipped binary: it explains itself, and bad settings end it with a message, not a panic. (Also what
//! makes `cargo test` build it for the crash drill, which kills it.)

use std::process::Command;

#[test]
fn the_binary_explains_itself_and_refuses_bad_settings_plainly() {
    let binary = env!("CARGO_BIN_EXE_timelock-oracle");
    let help = Command::new(binary).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("TIMELOCK_ORACLE_"));
    let missing = Command::new(binary).env("TIMELOCK_ORACLE_KEYPAIR", "/nonexistent/oracle.json").output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("/nonexistent/oracle.json") && !stderr.contains("panicked"), "{stderr}");
}
