//! The IDL: it must match the program, and TypeScript wallets using it must produce and read the same bytes as
//! the Rust SDK.

use std::process::Command;

use serde_json::{json, Value};
use timelock_idl as idl;
use timelock_sdk::{ix, pda};
use timelock_tests::*;

/// The services link the client SDK, not the command line (clap) nor the IDL builder (`anchor-lang-idl` with its
/// `build` feature, which shells out to cargo). anchor-lang's own macros keep `anchor-lang-idl` for parsing
/// (`convert`): every Anchor crate has that, at compile time only.
#[test]
fn the_services_link_neither_the_command_line_nor_the_idl_builder() {
    for service in ["timelock-indexer", "timelock-oracle"] {
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["tree", "--locked", "--offline", "-p", service, "-e", "normal,build", "--prefix", "none"])
            .args(["--format", "{p} [{f}]"])
            .current_dir(idl::workspace_root())
            .output()
            .expect("cargo tree runs");
        let tree = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success() && tree.contains(service), "{}", String::from_utf8_lossy(&output.stderr));
        for line in tree.lines() {
            assert!(!line.starts_with("clap "), "{service} links {line}");
            assert!(!(line.starts_with("anchor-lang-idl ") && line.contains("build")), "{service} links {line}");
        }
    }
}

/// The IDL is generated from the program by a nested build of it with `idl-build` (minutes on a cold machine),
/// so the check runs in two steps: the digest of the program's sources, its locked dependencies and the IDL, recorded by
/// `make idl`, proves that nothing changed since the IDL was generated; only when it differs (or with
/// `TIMELOCK_IDL_REBUILD=1`) is the IDL rebuilt and compared.
#[test]
fn checked_in_idl_matches_the_program() {
    let recorded = std::fs::read_to_string(idl::stamp_path()).unwrap_or_default();
    let current = idl::inputs_digest().expect("program sources readable");
    let rebuild = std::env::var_os("TIMELOCK_IDL_REBUILD").is_some();
    if recorded.trim() == current && !rebuild {
        return;
    }
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let generated = idl::generate().expect("IDL builds from the program");
    let checked_in = std::fs::read_to_string(idl::checked_in_path()).unwrap_or_default();
    assert!(
        generated == checked_in,
        "app-sdk/idl/timelock.json is out of date with the program: run `make idl` and commit it"
    );
    assert!(
        rebuild,
        "the IDL is current but the program changed since `make idl` recorded its inputs: run `make idl` and \
         commit app-sdk/idl/timelock.json.inputs, so that the check does not rebuild the program every run"
    );
}

#[test]
fn typescript_anchor_client_agrees_with_the_rust_sdk() {
    // A real booked lease from the real program.
    let mut f = TestFixture::new();
    let (_, workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 3, 2).unwrap();
    f.add_workers(&renter, 3, &workers).unwrap();
    f.warp(600);
    let now = f.now();
    let lease_address = f.lease_address(&renter, 3, &workers[0]);
    f.attest_quorum(2, now, &[(lease_address, 500, 1)]);
    let lease_data = f.svm.get_account(&lease_address).unwrap().data;
    let lease = f.lease(&renter, 3, &workers[0]);

    let payment = f.payment(&renter, 77);
    let rust_ix = ix::cluster_create(payment, 5, timelock::state::ClusterPurpose::Kubernetes);
    let names = [
        "renter",
        "config",
        "cluster",
        "paymentMint",
        "escrow",
        "tokenProgram",
        "systemProgram",
        "eventAuthority",
        "program",
    ];
    let accounts: serde_json::Map<String, Value> =
        names.iter().zip(&rust_ix.accounts).map(|(n, m)| (n.to_string(), json!(m.pubkey.to_string()))).collect();
    assert_eq!(rust_ix.accounts[2].pubkey, pda::cluster(&renter.key(), 77).0);
    use base64::Engine;
    let fixture = json!({
        "cluster_id": 77,
        "hours": 5,
        "accounts": accounts,
        "lease_data": base64::engine::general_purpose::STANDARD.encode(&lease_data),
    });
    let dir = tempfile::tempdir().unwrap();
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture.to_string()).unwrap();

    let ts_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ts");
    assert!(
        ts_dir.join("node_modules/@coral-xyz/anchor").exists(),
        "run `make test` (it installs tests/ts with npm ci)"
    );
    let output = Command::new("node")
        .arg(ts_dir.join("interop.mjs"))
        .arg(idl::checked_in_path())
        .arg(&fixture_path)
        .output()
        .expect("node runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let ts: Value = serde_json::from_slice(&output.stdout).unwrap();

    // The instruction: same program, accounts, flags and bytes.
    assert_eq!(ts["instruction"]["program_id"], json!(timelock::ID.to_string()));
    let rust_keys: Vec<Value> = rust_ix
        .accounts
        .iter()
        .map(|m| json!({ "pubkey": m.pubkey.to_string(), "is_signer": m.is_signer, "is_writable": m.is_writable }))
        .collect();
    assert_eq!(ts["instruction"]["keys"], json!(rust_keys));
    assert_eq!(ts["instruction"]["data"], json!(hex(&rust_ix.data)));

    // The zero-copy Lease, decoded from the IDL, equals the program's own type field by field.
    let l = &ts["lease"];
    assert_eq!(l["cluster"], json!(lease.cluster.to_string()));
    assert_eq!(l["worker"], json!(lease.worker.to_string()));
    assert_eq!(l["supplier"], json!(lease.supplier.to_string()));
    assert_eq!(l["hourly_rate"], json!(lease.hourly_rate.to_string()));
    assert_eq!(l["collateral"], json!(lease.collateral.to_string()));
    assert_eq!(l["start_ts"], json!(lease.start_ts.to_string()));
    assert_eq!(l["proven_secs"], json!(lease.proven_secs.to_string()));
    assert_eq!(l["faults"], json!(lease.faults.to_string()));
    assert_eq!(l["fee_bps"], json!(lease.fee_bps));
    assert_eq!(l["gpu_count"], json!(lease.gpu_count));
    assert_eq!(l["bump"], json!(lease.bump));
    assert_eq!(l["votes"][1]["oracle"], json!(lease.votes[1].oracle.to_string()));
    assert_eq!(l["votes"][1]["proven_secs"], json!(lease.votes[1].proven_secs.to_string()));
    assert_eq!((lease.proven_secs, lease.faults), (500, 1));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
