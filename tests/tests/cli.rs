//! The `timelock` CLI and the SDK client, driven against the real .so in LiteSVM through the SDK's `Backend`.

use clap::error::ErrorKind;
use clap::Parser;
use serde_json::Value;
use timelock_cli::{self as cli, Cli, Output};
use timelock_sdk::client::{decode_transaction, encode_transaction, Client};
use timelock_sdk::{batch, ix, pda, rpc};
use timelock_tests::svm_backend::SvmBackend;
use timelock_tests::*;

fn timelock(f: &mut TestFixture, signer: &Keypair, args: &str) -> Result<Value, String> {
    f.timelock(signer, args)
}

#[test]
fn argument_errors_say_what_is_wrong() {
    let cases: &[(&str, ErrorKind)] = &[
        ("", ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand),
        ("bogus", ErrorKind::InvalidSubcommand),
        ("config init --payment-mint 11111111111111111111111111111111", ErrorKind::MissingRequiredArgument),
        ("config update --protocol-fee-bps lots", ErrorKind::ValueValidation),
        ("oracle add not-a-key", ErrorKind::ValueValidation),
        ("oracle threshold", ErrorKind::MissingRequiredArgument),
        ("supplier stake", ErrorKind::MissingRequiredArgument),
        ("supplier stake -5", ErrorKind::UnknownArgument),
        ("supplier unbond 1.5", ErrorKind::ValueValidation),
        ("supplier show not-a-key", ErrorKind::ValueValidation),
        ("worker register --index 1", ErrorKind::MissingRequiredArgument),
        ("worker available 1 maybe", ErrorKind::InvalidValue),
        ("worker deregister", ErrorKind::MissingRequiredArgument),
        ("worker show", ErrorKind::MissingRequiredArgument),
        ("worker list --min-connectivity-tier high", ErrorKind::ValueValidation),
        ("cluster create --id 1 --hours 2", ErrorKind::MissingRequiredArgument),
        ("cluster create --id 1 --hours 2 --count 3 --purpose slurm", ErrorKind::InvalidValue),
        ("cluster extend --id 1", ErrorKind::MissingRequiredArgument),
        ("cluster add --id 1", ErrorKind::MissingRequiredArgument),
        ("cluster remove --id 1", ErrorKind::MissingRequiredArgument),
        ("cluster end", ErrorKind::MissingRequiredArgument),
        ("cluster show --id x", ErrorKind::ValueValidation),
        ("lease show --id 1", ErrorKind::MissingRequiredArgument),
        ("lease settle --worker 11111111111111111111111111111111", ErrorKind::MissingRequiredArgument),
        ("lease dispute --id 1", ErrorKind::MissingRequiredArgument),
        ("stats --output yaml", ErrorKind::InvalidValue),
    ];
    for (args, kind) in cases {
        let argv = std::iter::once("timelock").chain(args.split_whitespace());
        let error = Cli::try_parse_from(argv).expect_err(args);
        assert_eq!(error.kind(), *kind, "`timelock {args}`: {error}");
    }
    // Help is complete for every subcommand.
    for sub in ["config", "oracle", "supplier", "worker", "cluster", "lease", "stats"] {
        let error = Cli::try_parse_from(["timelock", sub, "--help"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::DisplayHelp);
        assert!(error.to_string().contains("Usage: timelock"), "{sub}");
    }
}

#[test]
fn semantic_errors_say_what_to_do() {
    let mut f = TestFixture::new();
    let user = f.actor();
    let err = timelock(&mut f, &user, "worker register --index 1 --gpu-model TPU-9 --gpu-count 1 --vram-gib 1 --cpu-cores 1 --ram-gib 1 --region US --tier 1 --price 1 --device-key 11111111111111111111111111111112 --gpu GPU-1").unwrap_err();
    assert!(err.contains("unknown GPU model") && err.contains("H100-SXM"), "{err}");
    let err = timelock(&mut f, &user, "cluster create --id 1 --hours 1 --count 3").unwrap_err();
    assert!(err.contains("only 0 available workers match"), "{err}");
    let err = timelock(&mut f, &user, "supplier show").unwrap_err();
    assert!(err.contains("not found"), "{err}");
    let err = timelock(&mut f, &user, "oracle remove 11111111111111111111111111111112").unwrap_err();
    assert!(err.contains("not in the oracle set"), "{err}");
}

#[test]
fn cli_drives_a_full_lifecycle() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let out = timelock(&mut f, &admin, "config show").unwrap();
    assert_eq!(out["oracle_threshold"], 2);
    timelock(&mut f, &admin, "config update --protocol-fee-bps 300 --dispute-window-secs 600").unwrap();
    assert_eq!(f.config().params.protocol_fee_bps, 300);

    // A supplier stakes and registers two workers.
    let supplier = f.actor();
    f.funded_ata(&supplier.pubkey(), f.stake_mint, 20_000 * ONE_STAKE);
    timelock(&mut f, &supplier, "supplier register").unwrap();
    timelock(&mut f, &supplier, &format!("supplier stake {}", 20_000 * ONE_STAKE)).unwrap();
    for (index, price) in [(1, 2_000_000), (2, 2_500_000)] {
        let device = Keypair::new().pubkey();
        let args = format!(
            "worker register --index {index} --gpu-model H100-SXM --gpu-count 8 --vram-gib 80 --cpu-cores 96 \
             --ram-gib 1024 --region US-EAST --tier 4 --soc2 --e2e --green --price {price} --device-key {device} {gpus}",
            gpus = (0..8).map(|g| format!("--gpu GPU-{index}-{g}")).collect::<Vec<_>>().join(" ")
        );
        timelock(&mut f, &supplier, &args).unwrap();
    }
    let listed =
        timelock(&mut f, &supplier, "worker list --gpu-model H100-SXM --region us-east --soc2 --max-price 2000000")
            .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "only the cheaper worker is under the max price");
    let shown = timelock(&mut f, &supplier, "supplier show").unwrap();
    assert_eq!(shown["worker_count"], 2);

    // A renter books both with a selection.
    let renter = f.actor();
    f.funded_ata(&renter.pubkey(), f.payment_mint, 1_000 * ONE_USDC);
    let booked =
        timelock(&mut f, &renter, "cluster create --id 9 --hours 1 --count 2 --gpu-model H100-SXM --available")
            .unwrap();
    assert_eq!(booked["workers"], 2);
    let cluster = timelock(&mut f, &renter, "cluster show --id 9").unwrap();
    assert_eq!((cluster["lease_count"].as_u64(), cluster["deposited"].as_u64()), (Some(2), Some(36 * ONE_USDC)));
    let workers: Vec<_> =
        listed.as_array().unwrap().iter().map(|w| w["address"].as_str().unwrap().to_string()).collect();

    // Oracles attest the full hour; anyone settles via the CLI after the windows.
    f.warp(3_600);
    let now = f.now();
    let worker_refs: Vec<_> = (1..=2).map(|i| f.worker_ref_for(&supplier.pubkey(), i)).collect();
    let reports: Vec<_> =
        worker_refs.iter().map(|w| (pda::lease(&pda::cluster(&renter.pubkey(), 9).0, &w.worker).0, 3_600, 0)).collect();
    f.attest_quorum(2, now, &reports);
    f.warp(300 + 600);
    let cranker = f.actor();
    for w in &worker_refs {
        let args = format!("lease settle --id 9 --worker {} --renter {}", w.worker, renter.pubkey());
        timelock(&mut f, &cranker, &args).unwrap();
        let args = format!("lease show --id 9 --worker {} --renter {}", w.worker, renter.pubkey());
        let err = timelock(&mut f, &cranker, &args).unwrap_err();
        assert!(err.contains("not found"), "lease closed: {err}");
    }
    assert!(!workers.is_empty());
    let claimed = timelock(&mut f, &supplier, "supplier claim");
    assert!(claimed.is_ok(), "{claimed:?}");
    timelock(&mut f, &renter, "cluster close --id 9").unwrap();
    let stats = timelock(&mut f, &renter, "stats").unwrap();
    assert_eq!((stats["gpus_total"].as_u64(), stats["gpus_rented"].as_u64()), (Some(16), Some(0)));
    // Both output formats render.
    assert!(cli::render(&stats, Output::Table).contains("gpus_total"));
    assert!(cli::render(&stats, Output::Json).starts_with('{'));
}

#[test]
fn hundred_gpus_book_in_the_fewest_transactions_that_fit() {
    let mut f = TestFixture::new();
    let workers = f.single_gpu_workers(4, 25);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).unwrap();
    let payment = f.payment(&renter, 1);
    let bookings: Vec<_> = workers.iter().map(|w| f.as_listed(w)).collect();
    let batches = batch::cluster_add_workers(payment, &bookings);
    let per_tx = batches[0][1].accounts.len() / 3 - 3;
    // Greedy packing of equal items is optimal: every batch but the last is full.
    assert_eq!(batches.len(), workers.len().div_ceil(per_tx), "{per_tx} workers per transaction");
    for batch in &batches {
        let size = batch::transaction_size(batch, &renter.key(), 1);
        assert!(size <= batch::PACKET_DATA_SIZE, "{size} bytes");
    }
    // One more worker would not fit the first batch.
    let one_more = ix::cluster_add_workers(payment, &bookings[..per_tx + 1]);
    assert!(batch::transaction_size(&[batches[0][0].clone(), one_more], &renter.key(), 1) > batch::PACKET_DATA_SIZE);

    let signer = renter.authority.insecure_clone();
    let report = Client::new(SvmBackend::new(&mut f.svm)).send_batches(&batches, &[&signer]);
    assert!(report.is_success(), "{:?}", report.failures);
    assert_eq!(report.signatures.len(), batches.len());
    assert_eq!(f.cluster(&renter, 1).lease_count, 100);
}

#[test]
fn external_signing_round_trip() {
    let mut f = TestFixture::new();
    let wallet = f.actor();
    let other = f.actor();
    let client = Client::new(SvmBackend::new(&mut f.svm));
    let register = ix::supplier_register(wallet.pubkey(), f.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID);
    let unsigned = client.unsigned_base64(&[register], &wallet.pubkey()).unwrap();

    // The wallet decodes, signs and returns it.
    let mut transaction = decode_transaction(&unsigned).unwrap();
    let blockhash = transaction.message.recent_blockhash;
    // A signature from the wrong key is refused before sending.
    let mut forged = transaction.clone();
    forged.signatures[0] = other.sign_message(&forged.message_data());
    assert!(client
        .submit_signed_base64(&encode_transaction(&forged))
        .unwrap_err()
        .to_string()
        .contains("bad signature"));
    transaction.sign(&[&wallet], blockhash);
    client.submit_signed_base64(&encode_transaction(&transaction)).expect("lands");
    assert!(client.submit_signed_base64("not base64!").unwrap_err().to_string().contains("not base64"));
    assert_eq!(f.account::<timelock::state::Supplier>(&pda::supplier(&wallet.pubkey()).0).authority, wallet.pubkey());
}

#[test]
fn keypair_files_in_the_solana_cli_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("id.json");
    let keypair = Keypair::new();
    std::fs::write(&path, format!("{:?}", keypair.to_bytes().to_vec())).unwrap();
    assert_eq!(rpc::read_keypair(&path).unwrap().pubkey(), keypair.pubkey());
    let missing = rpc::read_keypair(&dir.path().join("nope.json")).unwrap_err();
    assert!(missing.contains("solana-keygen new"), "{missing}");
    std::fs::write(&path, "[1, 2, 3]").unwrap();
    assert!(rpc::read_keypair(&path).is_err());
    assert!(rpc::default_keypair_path().ends_with(".config/solana/id.json"));
    assert_eq!(rpc::resolve_url("devnet"), "https://api.devnet.solana.com");
    assert_eq!(rpc::resolve_url("localhost"), "http://127.0.0.1:8899");
    assert_eq!(rpc::resolve_url("http://10.0.0.1:8899"), "http://10.0.0.1:8899");
}

#[test]
fn worker_layout_offsets_match_the_program() {
    let f = TestFixture::new();
    let worker = timelock::state::Worker {
        supplier: anchor_lang::prelude::Pubkey::new_unique(),
        worker_index: 7,
        spec: f.h100_spec(),
        available: true,
        active_lease: Default::default(),
        bonded_stake: 0,
        jailed_until: 0,
        fault_count: 0,
        fault_window_start: 0,
        window_faults: 0,
        registered_at: 0,
        bump: 0,
        gpu_set: [0; 32],
        gpus_bound: 8,
        last_gpu: [0; 32],
        _reserved: [0; 32],
    };
    let mut data = Vec::new();
    anchor_lang::AccountSerialize::try_serialize(&worker, &mut data).unwrap();
    let at = cli::worker_layout::GPU_MODEL;
    assert_eq!(&data[at..at + 2], &worker.spec.gpu_model.to_le_bytes());
}

#[test]
fn a_worker_registered_with_its_gpus_releases_them_when_it_leaves() {
    let mut f = TestFixture::new();
    let supplier = f.actor();
    f.funded_ata(&supplier.pubkey(), f.stake_mint, 8_000 * ONE_STAKE);
    timelock(&mut f, &supplier, "supplier register").unwrap();
    timelock(&mut f, &supplier, &format!("supplier stake {}", 8_000 * ONE_STAKE)).unwrap();
    let device = Keypair::new().pubkey();
    let uuids = ["GPU-5d9d6fb0-aa01", "GPU-5d9d6fb0-aa02"];
    let args = format!(
        "worker register --index 7 --gpu-model H100-SXM --gpu-count 2 --vram-gib 80 --cpu-cores 32 --ram-gib 256 \
         --region US-EAST --tier 4 --price 2000000 --device-key {device} --gpu {} --gpu {}",
        uuids[0], uuids[1]
    );
    timelock(&mut f, &supplier, &args).unwrap();
    let worker = pda::worker(&pda::supplier(&supplier.pubkey()).0, 7).0;
    let records: Vec<_> = uuids.iter().map(|u| pda::gpu(&timelock::state::Gpu::uuid_hash(u)).0).collect();
    assert!(records.iter().all(|r| f.account::<timelock::state::Gpu>(r).worker == worker));
    // The CLI finds the worker's GPU records on chain and closes them with it.
    timelock(&mut f, &supplier, "worker deregister 7").unwrap();
    assert!(records.iter().all(|r| !f.exists(r)) && !f.exists(&worker));
}

#[test]
fn a_sixteen_gpu_host_registers_in_two_transactions_and_a_rerun_binds_what_did_not_land() {
    let mut f = TestFixture::new();
    let supplier = f.actor();
    f.funded_ata(&supplier.pubkey(), f.stake_mint, 32_000 * ONE_STAKE);
    timelock(&mut f, &supplier, "supplier register").unwrap();
    timelock(&mut f, &supplier, &format!("supplier stake {}", 32_000 * ONE_STAKE)).unwrap();
    let register = |index: u32, uuids: &[String]| {
        let gpus: String = uuids.iter().map(|u| format!(" --gpu {u}")).collect();
        format!(
            "worker register --index {index} --gpu-model H100-SXM --gpu-count {} --vram-gib 80 --cpu-cores 32 \
             --ram-gib 256 --region US-EAST --tier 4 --price 2000000 --device-key {}{gpus}",
            uuids.len(),
            Keypair::new().pubkey()
        )
    };
    let sixteen: Vec<String> = (0..16).map(|i| format!("GPU-sixteen-{i:02}")).collect();
    let out = timelock(&mut f, &supplier, &register(1, &sixteen)).unwrap();
    assert_eq!(out["transactions"].as_array().map(Vec::len), Some(2), "{out}");
    let worker: timelock::state::Worker = f.account(&pda::worker(&pda::supplier(&supplier.pubkey()).0, 1).0);
    assert!(worker.is_bookable() && worker.gpus_bound == 16);

    // A registration whose last transaction did not land: the same command again binds the GPUs still missing.
    let six: Vec<String> = (0..6).map(|i| format!("GPU-six-{i}")).collect();
    let spec = timelock::state::WorkerSpec { gpu_count: 6, device_key: Keypair::new().pubkey(), ..f.h100_spec() };
    let mut hashes: Vec<[u8; 32]> = six.iter().map(|u| timelock::state::Gpu::uuid_hash(u)).collect();
    hashes.sort_unstable();
    let first = timelock_sdk::batch::worker_register(supplier.pubkey(), 2, spec, &hashes[..4]).concat();
    f.send(&first, &[&supplier]).unwrap();
    assert!(!f
        .account::<timelock::state::Worker>(&pda::worker(&pda::supplier(&supplier.pubkey()).0, 2).0)
        .is_bookable());
    // Rerun with a GPU missing: refused with what is bound, nothing sent.
    let short: Vec<String> = six.iter().filter(|u| timelock::state::Gpu::uuid_hash(u) != hashes[5]).cloned().collect();
    let refused = timelock(&mut f, &supplier, &register(2, &short)).unwrap_err();
    assert!(refused.contains("has 4 of its 6 GPUs bound"), "{refused}");
    let out = timelock(&mut f, &supplier, &register(2, &six)).unwrap();
    assert_eq!(out["transactions"].as_array().map(Vec::len), Some(1), "{out}");
    let worker: timelock::state::Worker = f.account(&pda::worker(&pda::supplier(&supplier.pubkey()).0, 2).0);
    assert_eq!(worker.gpu_set, timelock::state::Gpu::set_digest_of_uuids(six.iter().map(String::as_str)));
    assert!(worker.is_bookable());
}
