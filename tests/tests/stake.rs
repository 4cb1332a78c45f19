//! Supplier stake: deposit into the vault, unbond (never what is committed), withdraw after the delay.

use anchor_lang::error::ErrorCode as AnchorError;
use timelock::events::{StakeChangeKind, StakeChanged, SupplierRegistered};
use timelock_sdk::{ix, pda};
use timelock_tests::*;

const WEEK: i64 = 7 * 86_400;

#[test]
fn supplier_stakes_unbonds_and_withdraws_after_the_delay() {
    let mut f = TestFixture::new();
    let supplier = f.supplier(1_000 * ONE_STAKE);
    assert_eq!(f.supplier_account(&supplier).authority, supplier.key());

    let landed = f.deposit(&supplier, 600 * ONE_STAKE).expect("deposit");
    let event: StakeChanged = landed.event();
    assert_eq!((event.kind, event.amount, event.staked), (StakeChangeKind::Deposit, 600 * ONE_STAKE, 600 * ONE_STAKE));
    assert_eq!(f.token_balance(&pda::stake_vault().0), 600 * ONE_STAKE);
    assert_eq!(f.token_balance(&supplier.stake_tokens), 400 * ONE_STAKE);

    let landed = f.send(&[ix::stake_unbond(supplier.key(), 250 * ONE_STAKE)], &[&supplier.authority]).unwrap();
    let event: StakeChanged = landed.event();
    assert_eq!(event.kind, StakeChangeKind::Unbond);
    assert_eq!(event.unbond_ready_at, GENESIS_TIME + WEEK);
    let account = f.supplier_account(&supplier);
    assert_eq!((account.staked, account.unbonding), (600 * ONE_STAKE, 250 * ONE_STAKE));

    let withdraw = ix::stake_withdraw(f.stake_accounts(&supplier));
    f.warp(WEEK - 1);
    assert_error(f.send(std::slice::from_ref(&withdraw), &[&supplier.authority]), TimelockError::UnbondingNotElapsed);
    f.warp(1);
    let landed = f.send(std::slice::from_ref(&withdraw), &[&supplier.authority]).expect("withdraw");
    assert_eq!(landed.event::<StakeChanged>().amount, 250 * ONE_STAKE);
    assert_eq!(f.token_balance(&supplier.stake_tokens), 650 * ONE_STAKE);
    assert_eq!(f.token_balance(&pda::stake_vault().0), 350 * ONE_STAKE);
    let account = f.supplier_account(&supplier);
    assert_eq!((account.staked, account.unbonding), (350 * ONE_STAKE, 0));

    assert_error(f.send(&[withdraw], &[&supplier.authority]), TimelockError::NothingUnbonding);
}

#[test]
fn supplier_registration_emits_and_cannot_repeat() {
    let mut f = TestFixture::new();
    let authority = f.actor();
    let landed = f
        .send(
            &[ix::supplier_register(authority.pubkey(), f.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID)],
            &[&authority],
        )
        .unwrap();
    assert_eq!(landed.event::<SupplierRegistered>().authority, authority.pubkey());
    let register = ix::supplier_register(authority.pubkey(), f.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID);
    assert_already_in_use(f.send(&[register], &[&authority]));
}

#[test]
fn topping_up_the_unbonding_queue_restarts_its_clock() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(100 * ONE_STAKE);
    f.exec(ix::stake_unbond(supplier.key(), 10 * ONE_STAKE), &[&supplier.authority]);
    f.warp(WEEK - 10);
    f.exec(ix::stake_unbond(supplier.key(), 10 * ONE_STAKE), &[&supplier.authority]);
    f.warp(10);
    let withdraw = ix::stake_withdraw(f.stake_accounts(&supplier));
    assert_error(f.send(&[withdraw], &[&supplier.authority]), TimelockError::UnbondingNotElapsed);
    assert_eq!(f.supplier_account(&supplier).unbonding, 20 * ONE_STAKE);
}

#[test]
fn stake_bonded_by_workers_cannot_be_unbonded() {
    let mut f = TestFixture::new();
    // 8 × H100 at 200 per GPU × 5.0 = 8,000 bonded.
    let supplier = f.staked_supplier(8_500 * ONE_STAKE);
    let spec = f.h100_spec();
    f.register_worker(&supplier, spec).expect("register");
    assert_eq!(f.supplier_account(&supplier).reserved, 8_000 * ONE_STAKE);
    assert_error(
        f.send(&[ix::stake_unbond(supplier.key(), 501 * ONE_STAKE)], &[&supplier.authority]),
        TimelockError::InsufficientFreeStake,
    );
    f.exec(ix::stake_unbond(supplier.key(), 500 * ONE_STAKE), &[&supplier.authority]);
    assert_error(
        f.send(&[ix::stake_unbond(supplier.key(), 1)], &[&supplier.authority]),
        TimelockError::InsufficientFreeStake,
    );
}

#[test]
fn zero_amounts_are_refused() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(10 * ONE_STAKE);
    assert_error(f.deposit(&supplier, 0), TimelockError::ZeroAmount);
    assert_error(f.send(&[ix::stake_unbond(supplier.key(), 0)], &[&supplier.authority]), TimelockError::ZeroAmount);
}

#[test]
fn paused_program_refuses_stakes_but_lets_stake_leave() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(100 * ONE_STAKE);
    let admin = f.admin.insecure_clone();
    f.exec(ix::pause(admin.pubkey()), &[&admin]);

    assert_error(f.deposit(&supplier, ONE_STAKE), TimelockError::Paused);
    let newcomer = f.actor();
    assert_error(
        f.send(
            &[ix::supplier_register(newcomer.pubkey(), f.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID)],
            &[&newcomer],
        ),
        TimelockError::Paused,
    );

    f.exec(ix::stake_unbond(supplier.key(), 100 * ONE_STAKE), &[&supplier.authority]);
    f.warp(WEEK);
    f.exec(ix::stake_withdraw(f.stake_accounts(&supplier)), &[&supplier.authority]);
    assert_eq!(f.token_balance(&supplier.stake_tokens), 100 * ONE_STAKE);
}

#[test]
fn token_2022_stake_mint_works_end_to_end() {
    let mut f = TestFixture::deployed_with(token_2022());
    f.init_config().expect("config_init with a Token-2022 stake mint");
    assert_eq!(f.token_program_of(&pda::stake_vault().0), token_2022());
    let supplier = f.staked_supplier(50 * ONE_STAKE);
    assert_eq!(f.token_balance(&pda::stake_vault().0), 50 * ONE_STAKE);
    f.exec(ix::stake_unbond(supplier.key(), 20 * ONE_STAKE), &[&supplier.authority]);
    f.warp(WEEK);
    f.exec(ix::stake_withdraw(f.stake_accounts(&supplier)), &[&supplier.authority]);
    assert_eq!(f.token_balance(&supplier.stake_tokens), 20 * ONE_STAKE);
}

#[test]
fn deposit_from_a_token_account_of_another_mint_is_refused() {
    let mut f = TestFixture::new();
    let supplier = f.supplier(10 * ONE_STAKE);
    let wrong_mint_tokens = f.token_account(f.payment_mint, &supplier.key());
    let mut accounts = f.stake_accounts(&supplier);
    accounts.supplier_tokens = wrong_mint_tokens;
    assert_error(
        f.send(&[ix::stake_deposit(accounts, ONE_STAKE)], &[&supplier.authority]),
        AnchorError::ConstraintTokenMint,
    );

    // Naming the payment mint as the stake mint is caught by the config's record.
    let mut accounts = f.stake_accounts(&supplier);
    accounts.stake_mint = f.payment_mint;
    accounts.supplier_tokens = wrong_mint_tokens;
    assert_error(
        f.send(&[ix::stake_deposit(accounts, ONE_STAKE)], &[&supplier.authority]),
        TimelockError::InvalidStakeMint,
    );
}

#[test]
fn deposit_into_a_substitute_vault_is_refused() {
    let mut f = TestFixture::new();
    let supplier = f.supplier(10 * ONE_STAKE);
    let thief_vault = f.token_account(f.stake_mint, &supplier.key());
    let mut ix = ix::stake_deposit(f.stake_accounts(&supplier), ONE_STAKE);
    let vault_position = ix.accounts.iter().position(|m| m.pubkey == pda::stake_vault().0).unwrap();
    ix.accounts[vault_position].pubkey = thief_vault;
    assert_error(f.send(&[ix], &[&supplier.authority]), TimelockError::InvalidVault);
    assert_eq!(f.supplier_account(&supplier).staked, 0);
}

#[test]
fn withdraw_goes_only_to_the_suppliers_own_token_account() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(10 * ONE_STAKE);
    let other = f.actor();
    let others_tokens = f.token_account(f.stake_mint, &other.pubkey());
    f.exec(ix::stake_unbond(supplier.key(), 10 * ONE_STAKE), &[&supplier.authority]);
    f.warp(WEEK);
    let mut accounts = f.stake_accounts(&supplier);
    accounts.supplier_tokens = others_tokens;
    assert_error(f.send(&[ix::stake_withdraw(accounts)], &[&supplier.authority]), AnchorError::ConstraintTokenOwner);
}

#[test]
fn nobody_else_can_unbond_or_withdraw_a_suppliers_stake() {
    let mut f = TestFixture::new();
    let victim = f.staked_supplier(10 * ONE_STAKE);
    let thief = f.staked_supplier(ONE_STAKE);

    // Unsigned use of the victim's authority.
    let mut unbond = ix::stake_unbond(victim.key(), ONE_STAKE);
    unbond.accounts[0].is_signer = false;
    assert_error(f.send(&[unbond], &[&thief.authority]), AnchorError::AccountNotSigner);

    // The thief signs for itself but names the victim's supplier account.
    let mut unbond = ix::stake_unbond(thief.key(), ONE_STAKE);
    unbond.accounts[2].pubkey = victim.supplier();
    assert_error(f.send(&[unbond], &[&thief.authority]), AnchorError::ConstraintSeeds);
    assert_eq!(f.supplier_account(&victim).unbonding, 0);
}
