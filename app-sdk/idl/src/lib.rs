//! The program's Anchor IDL, generated from the program crate itself (Anchor's `idl-build` feature run through
//! `anchor-lang-idl`), so that no Anchor CLI is needed. The checked-in copy is `app-sdk/idl/timelock.json`.

use std::path::{Path, PathBuf};

use anchor_lang_idl::types::{
    IdlInstruction, IdlInstructionAccountItem, IdlPda, IdlSeed, IdlSeedAccount, IdlSeedArg, IdlSeedConst,
};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("app-sdk/idl sits in the workspace")
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
    let mut idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(workspace_root().join("programs/timelock"))
        .resolution(true)
        .cargo_args(vec!["--target-dir".into(), target_dir.display().to_string(), "--locked".into()])
        .build()?;
    declare_addresses(&mut idl.instructions);
    Ok(serde_json::to_string_pretty(&idl)? + "\n")
}

/// Declares what the IDL builder cannot see: the program checks these accounts against a constant address or
/// against another account's fields (cheaper than deriving them again on chain), so the builder finds no `address`
/// or `seeds` on them. Each is given its fixed address, or its PDA seeds from the program's own constants, in every
/// instruction that takes it (with the accounts its seeds name), so that a generated client derives it.
fn declare_addresses(instructions: &mut [IdlInstruction]) {
    use timelock::constants::*;
    let fixed = [
        ("config", timelock::pda::CONFIG.0),
        ("stake_vault", timelock::pda::STAKE_VAULT.0),
        ("event_authority", timelock::EVENT_AUTHORITY_AND_BUMP.0),
        ("program", timelock::ID),
        ("incentive_pool", timelock::pda::INCENTIVE_POOL.0),
    ];
    // Seeds after the constant one: an account of the instruction (`"cluster"`) or an argument's field
    // (`"arg:spec.device_key"`).
    let derived: [(&str, &[u8], &[&str]); 8] = [
        ("supplier", SUPPLIER_SEED, &["authority"]),
        ("worker", WORKER_SEED, &["supplier", "arg:worker_index"]),
        ("device", DEVICE_SEED, &["arg:spec.device_key"]),
        ("new_device", DEVICE_SEED, &["arg:spec.device_key"]),
        ("escrow", ESCROW_SEED, &["cluster"]),
        ("earnings_vault", EARNINGS_SEED, &["supplier"]),
        ("lease", LEASE_SEED, &["cluster", "worker"]),
        ("workload", WORKLOAD_SEED, &["cluster"]),
    ];
    for instruction in instructions {
        let names: Vec<String> = instruction
            .accounts
            .iter()
            .filter_map(|a| match a {
                IdlInstructionAccountItem::Single(account) => Some(account.name.clone()),
                IdlInstructionAccountItem::Composite(_) => None,
            })
            .collect();
        let args: Vec<String> = instruction.args.iter().map(|a| a.name.clone()).collect();
        let present = |from: &str| match from.strip_prefix("arg:") {
            Some(path) => args.iter().any(|a| path.split('.').next() == Some(a.as_str())),
            None => names.iter().any(|n| n == from),
        };
        for item in &mut instruction.accounts {
            let IdlInstructionAccountItem::Single(account) = item else { continue };
            if account.address.is_some() || account.pda.is_some() {
                continue;
            }
            if let Some((_, address)) = fixed.iter().find(|(name, _)| *name == account.name) {
                account.address = Some(address.to_string());
            } else if let Some((_, seed, from)) = derived.iter().find(|(name, ..)| *name == account.name) {
                if from.iter().all(|f| present(f)) {
                    let mut seeds = vec![IdlSeed::Const(IdlSeedConst { value: seed.to_vec() })];
                    seeds.extend(from.iter().map(|f| match f.strip_prefix("arg:") {
                        Some(path) => IdlSeed::Arg(IdlSeedArg { path: path.to_string() }),
                        None => IdlSeed::Account(IdlSeedAccount { path: f.to_string(), account: None }),
                    }));
                    account.pda = Some(IdlPda { seeds, program: None });
                }
            }
        }
    }
}

/// Where the digest of the inputs the checked-in IDL was generated from is kept, beside it.
pub fn stamp_path() -> PathBuf {
    workspace_root().join("app-sdk/idl/timelock.json.inputs")
}

/// SHA-256 over everything the IDL is generated from (every file of the program crate and the locked versions of
/// the crates it depends on) and over the checked-in IDL itself, so that a hand edit of either side changes it.
pub fn inputs_digest() -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let root = workspace_root();
    let mut files = Vec::new();
    collect_files(&root.join("programs/timelock"), &mut files)?;
    files.sort();
    // What `declare_addresses` adds to the builder's IDL.
    files.push(workspace_root().join("app-sdk/idl/src/lib.rs"));
    files.push(checked_in_path());
    let mut hasher = Sha256::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap_or(&file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        let contents = std::fs::read(&file).unwrap_or_default();
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(&contents);
    }
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    for package in locked_closure(&lock, "timelock") {
        hasher.update(package.as_bytes());
        hasher.update([0]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// `name version` of `root` and every package it depends on, transitively, as `Cargo.lock` resolves them (sorted).
/// Dependencies are named `name` or, where two versions are locked, `name version`.
fn locked_closure(lock: &str, root: &str) -> Vec<String> {
    struct Package {
        name: String,
        version: String,
        dependencies: Vec<String>,
    }
    let mut packages = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim_matches(|c| c == '"' || c == ' ').to_string())
        };
        let dependencies = block
            .split_once("dependencies = [")
            .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().trim_matches('"').to_string())
            .filter(|d| !d.is_empty())
            .collect();
        packages.push(Package {
            name: field("name = ").unwrap_or_default(),
            version: field("version = ").unwrap_or_default(),
            dependencies,
        });
    }
    let find = |reference: &str| {
        let (name, version) = reference.split_once(' ').map_or((reference, None), |(n, v)| (n, Some(v)));
        packages.iter().position(|p| p.name == name && version.is_none_or(|v| p.version == v))
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<usize> = find(root).into_iter().collect();
    while let Some(index) = stack.pop() {
        if seen.insert(index) {
            stack.extend(packages[index].dependencies.iter().filter_map(|d| find(d)));
        }
    }
    let mut closure: Vec<String> =
        seen.into_iter().map(|i| format!("{} {}", packages[i].name, packages[i].version)).collect();
    closure.sort();
    closure
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Regenerates the checked-in IDL and the digest of its inputs (`make idl`).
pub fn write_checked_in() -> anyhow::Result<PathBuf> {
    let json = generate()?;
    let path = checked_in_path();
    std::fs::create_dir_all(path.parent().expect("idl dir"))?;
    std::fs::write(&path, json)?;
    std::fs::write(stamp_path(), inputs_digest()? + "\n")?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::locked_closure;

    const LOCK: &str = r#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "lib",
 "tokio",
]

[[package]]
name = "lib"
version = "0.1.0"
dependencies = [
 "serde 1.0.0",
]

[[package]]
name = "serde"
version = "1.0.0"

[[package]]
name = "serde"
version = "2.0.0"

[[package]]
name = "tokio"
version = "1.0.0"
"#;

    #[test]
    fn the_closure_follows_dependencies_and_their_locked_versions_only() {
        assert_eq!(locked_closure(LOCK, "lib"), ["lib 0.1.0", "serde 1.0.0"]);
        assert_eq!(locked_closure(LOCK, "app"), ["app 0.1.0", "lib 0.1.0", "serde 1.0.0", "tokio 1.0.0"]);
    }
}
