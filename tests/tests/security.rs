//! One test per class of coral-xyz/sealevel-attacks, each proving the program refuses the attack.
//! (Signer authorization and account-data matching have further cases in config.rs, stake.rs and worker.rs.)

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountSerialize, Discriminator};
use timelock::constants::SUPPLIER_SEED;
use timelock::state::{Config, Supplier};
use timelock_sdk::{ix, pda};
use timelock_tests::*;

#[test]
fn signer_authorization_missing_signature() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(10 * ONE_STAKE);
    let thief = f.actor();
    let mut withdraw = ix::stake_unbond(supplier.key(), ONE_STAKE);
    withdraw.accounts[0].is_signer = false;
    assert_error(f.send(&[withdraw], &[&thief]), AnchorError::AccountNotSigner);
}

#[test]
fn account_data_matching_worker_of_another_supplier() {
    let mut f = TestFixture::new();
    let owner = f.staked_supplier(8_000 * ONE_STAKE);
    let intruder = f.staked_supplier(ONE_STAKE);
    let spec = f.h100_spec();
    let index = f.register_worker(&owner, spec.clone()).unwrap();
    // The intruder registers the same index, so seeds alone would not tell the workers apart by index.
    let mut update = ix::worker_update(intruder.key(), index, spec.device_key, spec);
    update.accounts[3].pubkey = pda::worker(&owner.supplier(), index).0;
    assert_error(f.send(&[update], &[&intruder.authority]), AnchorError::ConstraintSeeds);
}

#[test]
fn owner_check_forged_config_owned_by_another_program() {
    let mut f = TestFixture::new();
    let intruder = f.actor();
    // Same bytes as the real config with the intruder as admin, but owned by the system program.
    let data = config_with_admin(&f, intruder.pubkey());
    let forged = Pubkey::new_unique();
    f.svm.set_account(forged, solana_account(data, anchor_lang::solana_program::system_program::ID)).unwrap();
    let mut pause = ix::pause(intruder.pubkey());
    pause.accounts[1].pubkey = forged;
    assert_error(f.send(&[pause], &[&intruder]), AnchorError::AccountOwnedByWrongProgram);
}

#[test]
fn owner_check_fake_token_account_not_owned_by_a_token_program() {
    let mut f = TestFixture::new();
    let supplier = f.supplier(10 * ONE_STAKE);
    let real = f.svm.get_account(&supplier.stake_tokens).unwrap();
    let fake = Pubkey::new_unique();
    f.svm.set_account(fake, solana_account(real.data, anchor_lang::solana_program::system_program::ID)).unwrap();
    let mut accounts = f.stake_accounts(&supplier);
    accounts.supplier_tokens = fake;
    assert_error(
        f.send(&[ix::stake_deposit(accounts, ONE_STAKE)], &[&supplier.authority]),
        AnchorError::AccountOwnedByWrongProgram,
    );
}

#[test]
fn type_cosplay_worker_passed_as_supplier() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(8_000 * ONE_STAKE);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec).unwrap();
    let mut unbond = ix::stake_unbond(supplier.key(), ONE_STAKE);
    unbond.accounts[2].pubkey = pda::worker(&supplier.supplier(), index).0;
    assert_error(f.send(&[unbond], &[&supplier.authority]), AnchorError::AccountDiscriminatorMismatch);
}

#[test]
fn type_cosplay_supplier_bytes_under_the_config_discriminator() {
    // A program-owned account cannot be made to look like a Config by anyone but the program, but even a
    // correctly discriminated impostor at a non-config address is refused by the address check.
    let mut f = TestFixture::new();
    let intruder = f.actor();
    let data = config_with_admin(&f, intruder.pubkey());
    assert_eq!(&data[..8], Config::DISCRIMINATOR);
    let impostor = Pubkey::new_unique();
    f.svm.set_account(impostor, solana_account(data, timelock::ID)).unwrap();
    let mut pause = ix::pause(intruder.pubkey());
    pause.accounts[1].pubkey = impostor;
    assert_error(f.send(&[pause], &[&intruder]), AnchorError::ConstraintAddress);
}

#[test]
fn reinitialisation_of_config_supplier_and_worker_is_refused() {
    let mut f = TestFixture::new();
    assert_already_in_use(f.init_config());
    let supplier = f.staked_supplier(8_000 * ONE_STAKE);
    let register = ix::supplier_register(supplier.key(), f.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID);
    assert_already_in_use(f.send(&[register], &[&supplier.authority]));
    assert_eq!(f.supplier_account(&supplier).staked, 8_000 * ONE_STAKE, "re-register did not reset the stake");
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec.clone()).unwrap();
    let again = f.register_worker_ix(&supplier, index, spec);
    assert_already_in_use(f.send(&again, &[&supplier.authority]));
}

#[test]
fn arbitrary_cpi_substituted_token_program() {
    let mut f = TestFixture::new();
    let supplier = f.supplier(10 * ONE_STAKE);
    let mut accounts = f.stake_accounts(&supplier);
    // Any program other than SPL Token / Token-2022 (here: this program itself) is refused before a CPI.
    accounts.token_program = timelock::ID;
    assert_error(
        f.send(&[ix::stake_deposit(accounts, ONE_STAKE)], &[&supplier.authority]),
        AnchorError::InvalidProgramId,
    );
    // A real token program that does not own the stake mint is refused too.
    let mut accounts = f.stake_accounts(&supplier);
    accounts.token_program = token_2022();
    assert_error(
        f.send(&[ix::stake_deposit(accounts, ONE_STAKE)], &[&supplier.authority]),
        AnchorError::ConstraintMintTokenProgram,
    );
}

#[test]
fn duplicate_mutable_accounts_vault_as_source() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(10 * ONE_STAKE);
    let mut accounts = f.stake_accounts(&supplier);
    accounts.supplier_tokens = pda::stake_vault().0;
    // Anchor refuses one account in two mutable roles before any constraint runs.
    assert_error(
        f.send(&[ix::stake_deposit(accounts, ONE_STAKE)], &[&supplier.authority]),
        AnchorError::ConstraintDuplicateMutableAccount,
    );
    f.exec(ix::stake_unbond(supplier.key(), 10 * ONE_STAKE), &[&supplier.authority]);
    f.warp(7 * 86_400);
    assert_error(
        f.send(&[ix::stake_withdraw(accounts)], &[&supplier.authority]),
        AnchorError::ConstraintDuplicateMutableAccount,
    );
    assert_eq!(f.token_balance(&pda::stake_vault().0), 10 * ONE_STAKE);
}

/// No instruction takes a bump from its caller: every PDA is created by `init` with the canonical bump, which is
/// stored and re-checked by `seeds` on every use. An attacker can only bring an account at a non-canonical address
/// that it created itself (so not owned by the program), or one whose stored bump does not derive its address.
#[test]
fn bump_seed_canonicalization_non_canonical_suppliers_are_refused() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(ONE_STAKE);
    let (canonical, canonical_bump) = pda::supplier(&supplier.key());
    assert_eq!(f.supplier_account(&supplier).bump, canonical_bump, "init stores the canonical bump");
    let (forged_address, _) = (0..canonical_bump)
        .rev()
        .find_map(|bump| {
            Pubkey::create_program_address(&[SUPPLIER_SEED, supplier.key().as_ref(), &[bump]], &timelock::ID)
                .ok()
                .map(|address| (address, bump))
        })
        .expect("a non-canonical bump exists");
    assert_ne!(forged_address, canonical);
    let mut account: Supplier = f.supplier_account(&supplier);
    account.staked = 1_000_000 * ONE_STAKE;
    let mut data = Vec::new();
    account.try_serialize(&mut data).unwrap();

    let mut unbond = ix::stake_unbond(supplier.key(), 1_000 * ONE_STAKE);
    unbond.accounts[2].pubkey = forged_address;
    f.svm
        .set_account(forged_address, solana_account(data.clone(), anchor_lang::solana_program::system_program::ID))
        .unwrap();
    assert_error(f.send(&[unbond.clone()], &[&supplier.authority]), AnchorError::AccountOwnedByWrongProgram);
    f.svm.set_account(forged_address, solana_account(data, timelock::ID)).unwrap();
    assert_error(f.send(&[unbond], &[&supplier.authority]), AnchorError::ConstraintSeeds);
}

#[test]
fn pda_sharing_the_shared_vault_pays_only_what_a_supplier_owns() {
    // The stake vault and its authority (the config PDA) are shared by all suppliers; what one may take out is
    // bounded by its own supplier account, never by the vault's balance.
    let mut f = TestFixture::new();
    let rich = f.staked_supplier(1_000 * ONE_STAKE);
    let poor = f.staked_supplier(ONE_STAKE);
    assert_error(
        f.send(&[ix::stake_unbond(poor.key(), 2 * ONE_STAKE)], &[&poor.authority]),
        TimelockError::InsufficientFreeStake,
    );
    f.exec(ix::stake_unbond(poor.key(), ONE_STAKE), &[&poor.authority]);
    f.warp(7 * 86_400);
    f.exec(ix::stake_withdraw(f.stake_accounts(&poor)), &[&poor.authority]);
    assert_eq!(f.token_balance(&poor.stake_tokens), ONE_STAKE);
    assert_eq!(f.token_balance(&pda::stake_vault().0), 1_000 * ONE_STAKE);
    assert_eq!(f.supplier_account(&rich).staked, 1_000 * ONE_STAKE);
}

#[test]
fn closing_accounts_closed_worker_cannot_be_revived_or_reused() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(8_000 * ONE_STAKE);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec).unwrap();
    let worker = pda::worker(&supplier.supplier(), index).0;
    let deregister = f.deregister_worker_ix(&supplier, index);
    f.exec(deregister.clone(), &[&supplier.authority]);
    assert!(!f.exists(&worker));
    assert_error(f.send(&[deregister], &[&supplier.authority]), AnchorError::AccountNotInitialized);
    assert_eq!(f.supplier_account(&supplier).reserved, 0, "the bond was released exactly once");
}

/// The real config's bytes with `admin` swapped in: what an attacker would like the program to accept.
fn config_with_admin(f: &TestFixture, admin: Pubkey) -> Vec<u8> {
    let mut config = f.config();
    config.admin = admin;
    let mut data = Vec::new();
    config.try_serialize(&mut data).unwrap();
    data
}

fn solana_account(data: Vec<u8>, owner: Pubkey) -> solana_account::Account {
    solana_account::Account { lamports: 1_000_000_000, data, owner, executable: false, rent_epoch: 0 }
}
