//! The program's Anchor IDL, generated from the program crate itself (Anchor's `idl-build` feature run through
//! `anchor-lang-idl`), so that no Anchor CLI is needed. The checked-in copy is `app-sdk/idl/timelock.json`.

use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("app-sdk sits in the workspace").to_path_buf()
}

pub fn checked_in_path() -> PathBuf {
    workspace_root().join("app-sdk/idl/timelock.json")
}

/// Builds the IDL JSON. The nested `cargo test --features idl-build` gets its own target directory because it
/// builds with other flags, which would otherwise invalidate the main build's cache.
pub fn generate() -> anyhow::Result<String> {
    let target_dir = std::env::var("TIMELOCK_IDL_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dirs::home_dir().unwrap_or_default().join(".cache/timelock/target-idl"));
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(workspace_root().join("programs/timelock"))
        .resolution(true)
        .cargo_args(vec!["--target-dir".into(), target_dir.display().to_string(), "--locked".into()])
        .build()?;
    Ok(serde_json::to_string_pretty(&idl)? + "\n")
}
