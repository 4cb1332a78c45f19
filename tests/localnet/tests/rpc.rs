//! `timelock-localnet` through Solana's own RPC client: what the SDK, the services and wallets rely on behaves
//! as on a validator — transactions land and are found again with their inner instructions, pages of
//! signatures, blockhash expiry, duplicates, bad signatures and failing transactions refused with Agave's
//! errors, and a transaction's commitment moving from confirmed to finalized.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use solana_commitment_config::CommitmentConfig;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_rpc_client::rpc_client::{GetConfirmedSignaturesForAddress2Config, RpcClient};
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::{TransactionConfirmationStatus, UiTransactionEncoding};
use timelock_localnet::chain::{Chain, BLOCKHASH_VALID_SLOTS, FINALITY_SLOTS};
use timelock_localnet::rpc::SharedChain;

const SOL: u64 = 1_000_000_000;

/// A node on a free port, served from a thread of its own for as long as the test runs.
struct Node {
    chain: SharedChain,
    rpc: RpcClient,
    faucet: Keypair,
}

impl Node {
    fn start() -> Node {
        let faucet = Keypair::new();
        let chain: SharedChain = Arc::new(Mutex::new(Chain::new(faucet.insecure_clone(), 1_000, |_| {})));
        let served = chain.clone();
        let (ready, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready.send(listener.local_addr().unwrap()).unwrap();
                timelock_localnet::rpc::serve(listener, served, std::future::pending()).await.unwrap();
            });
        });
        let url = format!("http://{}", address.recv().unwrap());
        Node { chain, rpc: RpcClient::new_with_commitment(url, CommitmentConfig::confirmed()), faucet }
    }

    fn signed(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Transaction {
        let blockhash = self.rpc.get_latest_blockhash().unwrap();
        Transaction::new_signed_with_payer(instructions, Some(&signers[0].pubkey()), signers, blockhash)
    }

    fn transfer(&self, to: &Pubkey, lamports: u64) -> Transaction {
        self.signed(
            &[solana_system_interface::instruction::transfer(&self.faucet.pubkey(), to, lamports)],
            &[&self.faucet],
        )
    }

    /// A transaction at confirmed commitment, JSON-encoded.
    fn confirmed_transaction(
        &self,
        signature: &solana_signature::Signature,
    ) -> solana_transaction_status_client_types::EncodedConfirmedTransactionWithStatusMeta {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(CommitmentConfig::confirmed()),
            max_supported_transaction_version: Some(0),
        };
        self.rpc.get_transaction_with_config(signature, config).unwrap()
    }

    fn warp(&self, slots: u64) {
        let mut chain = self.chain.lock().unwrap();
        let slot = chain.slot() + slots;
        chain.warp_to_slot(slot);
    }
}

/// The RPC error of a failed call: (code, message, the preflight simulation's logs if any).
fn rpc_error(error: solana_rpc_client_api::client_error::Error) -> (i64, String, Option<Vec<String>>) {
    match error.kind() {
        ErrorKind::RpcError(RpcError::RpcResponseError { code, message, data }) => {
            let logs = match data {
                RpcResponseErrorData::SendTransactionPreflightFailure(result) => result.logs.clone(),
                _ => None,
            };
            (*code, message.clone(), logs)
        }
        other => panic!("expected an RPC error, got {other:?}"),
    }
}

#[test]
fn a_transfer_lands_and_is_found_by_signature_and_by_address() {
    let node = Node::start();
    let alice = Keypair::new();
    let signature = node.rpc.send_and_confirm_transaction(&node.transfer(&alice.pubkey(), 3 * SOL)).unwrap();
    assert_eq!(node.rpc.get_balance(&alice.pubkey()).unwrap(), 3 * SOL);

    let found = node.confirmed_transaction(&signature);
    let meta = found.transaction.meta.unwrap();
    assert!(meta.err.is_none());
    assert_eq!(meta.fee, 5_000);
    assert_eq!(meta.post_balances[1], 3 * SOL, "the recipient's balance after the transfer");
    assert_eq!(meta.pre_balances[0] - meta.post_balances[0], 3 * SOL + 5_000, "the payer paid the transfer and fee");
    assert!(matches!(meta.log_messages, OptionSerializer::Some(logs) if !logs.is_empty()));
    assert_eq!(node.rpc.get_block_time(found.slot).unwrap(), found.block_time.unwrap());
}

#[test]
fn signatures_for_an_address_page_newest_first_with_before_and_until() {
    let node = Node::start();
    let bob = Pubkey::new_unique();
    let sent: Vec<_> =
        (1..=5).map(|i| node.rpc.send_and_confirm_transaction(&node.transfer(&bob, i * SOL)).unwrap()).collect();
    let page = |before, until, limit| {
        let config = GetConfirmedSignaturesForAddress2Config {
            before,
            until,
            limit,
            commitment: Some(CommitmentConfig::confirmed()),
        };
        node.rpc
            .get_signatures_for_address_with_config(&bob, config)
            .unwrap()
            .into_iter()
            .map(|s| solana_signature::Signature::from_str(&s.signature).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(page(None, None, None), sent.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(page(None, None, Some(2)), vec![sent[4], sent[3]]);
    assert_eq!(page(Some(sent[3]), None, Some(2)), vec![sent[2], sent[1]]);
    assert_eq!(page(None, Some(sent[2]), None), vec![sent[4], sent[3]]);
    assert_eq!(page(Some(sent[4]), Some(sent[1]), None), vec![sent[3], sent[2]]);
}

#[test]
fn cross_program_invocations_are_recorded_as_inner_instructions() {
    let node = Node::start();
    let token_program = Pubkey::from_str("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA").unwrap();
    let ata_program = Pubkey::from_str("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL").unwrap();
    let system_program = solana_system_interface::program::ID;
    let mint = Keypair::new();
    let rent = node.rpc.get_minimum_balance_for_rent_exemption(82).unwrap();
    let payer = node.faucet.pubkey();
    let mut initialize_mint = vec![20, 6];
    initialize_mint.extend_from_slice(payer.as_ref());
    initialize_mint.push(0);
    let create_mint = [
        solana_system_interface::instruction::create_account(&payer, &mint.pubkey(), rent, 82, &token_program),
        Instruction {
            program_id: token_program,
            accounts: vec![AccountMeta::new(mint.pubkey(), false)],
            data: initialize_mint,
        },
    ];
    node.rpc.send_and_confirm_transaction(&node.signed(&create_mint, &[&node.faucet, &mint])).unwrap();

    let wallet = Pubkey::new_unique();
    let (ata, _) =
        Pubkey::find_program_address(&[wallet.as_ref(), token_program.as_ref(), mint.pubkey().as_ref()], &ata_program);
    let create_ata = Instruction {
        program_id: ata_program,
        accounts: vec![
            AccountMeta::new(payer, true),
            AccountMeta::new(ata, false),
            AccountMeta::new_readonly(wallet, false),
            AccountMeta::new_readonly(mint.pubkey(), false),
            AccountMeta::new_readonly(system_program, false),
            AccountMeta::new_readonly(token_program, false),
        ],
        data: vec![1],
    };
    let signature = node.rpc.send_and_confirm_transaction(&node.signed(&[create_ata], &[&node.faucet])).unwrap();
    let found = node.confirmed_transaction(&signature);
    let OptionSerializer::Some(inner) = found.transaction.meta.unwrap().inner_instructions else {
        panic!("no inner instructions")
    };
    assert_eq!(inner.len(), 1, "one group, for the only top-level instruction");
    assert_eq!(inner[0].index, 0);
    assert!(inner[0].instructions.len() >= 3, "the ATA program called the system and token programs");
    assert_eq!(node.rpc.get_account(&ata).unwrap().owner, token_program);
}

#[test]
fn a_blockhash_expires_after_150_slots_and_the_client_is_told_so() {
    let node = Node::start();
    let stale = node.transfer(&Pubkey::new_unique(), SOL);
    assert!(node.rpc.is_blockhash_valid(&stale.message.recent_blockhash, CommitmentConfig::processed()).unwrap());
    node.warp(BLOCKHASH_VALID_SLOTS + 1);
    assert!(!node.rpc.is_blockhash_valid(&stale.message.recent_blockhash, CommitmentConfig::processed()).unwrap());
    let (code, message, _) = rpc_error(node.rpc.send_transaction(&stale).unwrap_err());
    assert_eq!(code, -32002);
    assert!(message.contains("Blockhash not found"), "{message}");
    // A fresh blockhash works.
    node.rpc.send_and_confirm_transaction(&node.transfer(&Pubkey::new_unique(), SOL)).unwrap();
}

#[test]
fn duplicates_bad_signatures_and_failing_transactions_are_refused_without_effect() {
    let node = Node::start();
    let carol = Pubkey::new_unique();
    let transfer = node.transfer(&carol, SOL);
    node.rpc.send_and_confirm_transaction(&transfer).unwrap();
    let (code, message, _) = rpc_error(node.rpc.send_transaction(&transfer).unwrap_err());
    assert_eq!(code, -32002);
    assert!(message.contains("already been processed"), "{message}");

    let mut forged = node.transfer(&carol, 100 * SOL);
    forged.signatures[0] = Keypair::new().sign_message(&forged.message_data());
    let (code, _, _) = rpc_error(node.rpc.send_transaction(&forged).unwrap_err());
    assert_eq!(code, -32003, "signature verification failure");

    let pauper = Keypair::new();
    node.rpc.send_and_confirm_transaction(&node.transfer(&pauper.pubkey(), SOL)).unwrap();
    let overdraft =
        node.signed(&[solana_system_interface::instruction::transfer(&pauper.pubkey(), &carol, 5 * SOL)], &[&pauper]);
    let (code, message, logs) = rpc_error(node.rpc.send_transaction(&overdraft).unwrap_err());
    assert_eq!(code, -32002);
    assert!(message.starts_with("Transaction simulation failed"), "{message}");
    assert!(logs.is_some_and(|logs| logs.iter().any(|l| l.contains("insufficient lamports"))));
    assert_eq!(node.rpc.get_balance(&carol).unwrap(), SOL, "only the first transfer landed");
}

#[test]
fn a_transaction_is_confirmed_then_finalized_32_slots_later() {
    let node = Node::start();
    let signature = node.rpc.send_and_confirm_transaction(&node.transfer(&Pubkey::new_unique(), SOL)).unwrap();
    let status =
        |node: &Node| node.rpc.get_signature_statuses(&[signature]).unwrap().value[0].clone().expect("a status");
    assert_eq!(status(&node).confirmation_status, Some(TransactionConfirmationStatus::Confirmed));
    assert!(node.rpc.get_transaction(&signature, UiTransactionEncoding::Json).is_err(), "not yet at finalized");
    node.warp(FINALITY_SLOTS + 1);
    assert_eq!(status(&node).confirmation_status, Some(TransactionConfirmationStatus::Finalized));
    assert!(status(&node).confirmations.is_none(), "rooted");
    let finalized = node.rpc.get_slot_with_commitment(CommitmentConfig::finalized()).unwrap();
    let confirmed = node.rpc.get_slot_with_commitment(CommitmentConfig::confirmed()).unwrap();
    assert_eq!(confirmed - finalized, FINALITY_SLOTS);
    node.rpc.get_transaction(&signature, UiTransactionEncoding::Base64).expect("found at finalized");
}

#[test]
fn batches_unknown_methods_and_malformed_bodies_get_json_rpc_answers() {
    let node = Node::start();
    let answer = |body: &str| timelock_localnet::rpc::handle_body(&node.chain, body.as_bytes());
    let batch =
        answer(r#"[{"jsonrpc":"2.0","id":1,"method":"getSlot"},{"jsonrpc":"2.0","id":2,"method":"getHealth"}]"#);
    assert_eq!(batch[0]["id"], 1);
    assert!(batch[0]["result"].as_u64().is_some());
    assert_eq!(batch[1]["result"], "ok");
    assert_eq!(answer(r#"{"jsonrpc":"2.0","id":7,"method":"mineBitcoin"}"#)["error"]["code"], -32601);
    assert_eq!(answer("{not json")["error"]["code"], -32700);
    assert_eq!(answer(r#"{"jsonrpc":"2.0","id":3,"method":"getBalance","params":["nope"]}"#)["error"]["code"], -32602);
    assert_eq!(
        answer(r#"{"jsonrpc":"2.0","id":4,"method":"sendTransaction","params":["!!"]}"#)["error"]["code"],
        -32602
    );
}
