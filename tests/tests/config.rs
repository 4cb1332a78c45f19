//! Config lifecycle: initialisation by the upgrade authority, validated updates, two-step admin hand-over, pause.

use anchor_lang::error::ErrorCode as AnchorError;
use timelock_sdk::{ix, pda};
use timelock_tests::*;

#[test]
fn upgrade_authority_initialises_config_and_vault() {
    let mut f = TestFixture::deployed();
    let landed = f.init_config().expect("config_init");
    assert!(landed.compute_units > 0);

    let config = f.config();
    assert_eq!(config.admin, f.admin.pubkey());
    assert_eq!(config.stake_mint, f.stake_mint);
    assert_eq!(config.payment_mint, f.payment_mint);
    assert_eq!(config.stake_vault, pda::stake_vault().0);
    assert_eq!(config.params, f.default_params());
    assert!(!config.paused);
    assert_eq!(f.token_balance(&config.stake_vault), 0);
}

#[test]
fn config_init_by_anyone_else_is_refused() {
    let mut f = TestFixture::deployed();
    let intruder = f.actor();
    let params = f.default_params();
    let ix = ix::config_init(intruder.pubkey(), f.stake_mint, f.payment_mint, f.stake_token_program, params);
    assert_error(f.send(&[ix], &[&intruder]), TimelockError::NotUpgradeAuthority);
}

#[test]
fn config_cannot_be_initialised_twice() {
    let mut f = TestFixture::new();
    f.svm.expire_blockhash();
    // `init` on an existing account: the system program refuses to create it again.
    assert_already_in_use(f.init_config());
}

type ParamsChange = Box<dyn Fn(&mut timelock::state::ConfigParams)>;

#[test]
fn config_init_validates_params() {
    let cases: Vec<(ParamsChange, TimelockError)> = vec![
        (Box::new(|p| p.protocol_fee_bps = 2_001), TimelockError::FeeTooHigh),
        // A fault that slashes less than the hour it can earn elsewhere does not deter (item 5 of the hardening).
        (Box::new(|p| p.slash_bps = 9_999), TimelockError::SlashTooWeak),
        (Box::new(|p| p.collateral_bps = u32::from(p.slash_bps) - 1), TimelockError::SlashTooWeak),
        (Box::new(|p| p.collateral_rate.stake_tokens = 0), TimelockError::InvalidCollateralRate),
        (Box::new(|p| p.collateral_rate.payment_tokens = 1_000_000_000_001), TimelockError::InvalidCollateralRate),
        // A free dispute, or one that never ends, is a way to freeze another party's money.
        (Box::new(|p| p.dispute_bond = 0), TimelockError::InvalidDisputeBond),
        (Box::new(|p| p.dispute_timeout_secs = 0), TimelockError::InvalidDisputeBond),
        (Box::new(|p| p.dispute_timeout_secs = 31 * 86_400), TimelockError::InvalidDisputeBond),
        (Box::new(|p| p.slash_renter_share_bps = 10_001), TimelockError::BpsOutOfRange),
        (Box::new(|p| p.min_rental_secs = 3_599), TimelockError::RentalTooShort),
        (Box::new(|p| p.unbonding_period_secs = -1), TimelockError::InvalidUnbondingPeriod),
        (Box::new(|p| p.unbonding_period_secs = 91 * 86_400), TimelockError::InvalidUnbondingPeriod),
        (Box::new(|p| p.epoch_secs = 0), TimelockError::InvalidEpoch),
        // Unbounded periods would let a parameter change hold every lease and jailed worker for ever.
        (Box::new(|p| p.epoch_secs = 86_401), TimelockError::InvalidEpoch),
        (Box::new(|p| p.jail_window_secs = 31 * 86_400), TimelockError::InvalidJailParams),
        (Box::new(|p| p.jail_cooldown_secs = i64::MAX), TimelockError::InvalidJailParams),
        (Box::new(|p| p.jail_fault_threshold = 0), TimelockError::InvalidJailParams),
        (Box::new(|p| p.oracles.clear()), TimelockError::InvalidOracleSet),
        (Box::new(|p| p.oracles = vec![p.oracles[0]; 2]), TimelockError::InvalidOracleSet),
        (
            Box::new(|p| p.oracles = (0..11).map(|_| anchor_lang::prelude::Pubkey::new_unique()).collect()),
            TimelockError::InvalidOracleSet,
        ),
        (Box::new(|p| p.oracle_threshold = 0), TimelockError::InvalidOracleThreshold),
        (Box::new(|p| p.oracle_threshold = 4), TimelockError::InvalidOracleThreshold),
        // One of three is a minority: it could raise proven time or faults alone.
        (Box::new(|p| p.oracle_threshold = 1), TimelockError::InvalidOracleThreshold),
        (Box::new(|p| p.gpu_multipliers_bps[3] = 1_000_001), TimelockError::InvalidGpuMultiplier),
    ];
    for (mutate, expected) in cases {
        let mut f = TestFixture::deployed();
        let mut params = f.default_params();
        mutate(&mut params);
        let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, f.payment_mint, f.stake_token_program, params);
        let admin = f.admin.insecure_clone();
        assert_error(f.send(&[ix], &[&admin]), expected);
    }
}

#[test]
fn admin_updates_params_and_others_cannot() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let mut params = f.config().params;
    params.protocol_fee_bps = 250;
    params.oracle_threshold = 3;
    f.exec(ix::config_update(admin.pubkey(), params.clone()), &[&admin]);
    assert_eq!(f.config().params, params);

    let intruder = f.actor();
    params.protocol_fee_bps = 0;
    assert_error(
        f.send(&[ix::config_update(intruder.pubkey(), params.clone())], &[&intruder]),
        TimelockError::NotAdmin,
    );

    params.protocol_fee_bps = 9_000;
    assert_error(f.send(&[ix::config_update(admin.pubkey(), params)], &[&admin]), TimelockError::FeeTooHigh);
    assert_eq!(f.config().params.protocol_fee_bps, 250);
}

#[test]
fn admin_role_moves_only_when_the_new_admin_accepts() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let successor = f.actor();
    let stranger = f.actor();

    assert_error(f.send(&[ix::admin_accept(successor.pubkey())], &[&successor]), TimelockError::NoPendingAdmin);
    f.exec(ix::admin_transfer(admin.pubkey(), successor.pubkey()), &[&admin]);
    assert_eq!(f.config().pending_admin, successor.pubkey());
    assert_eq!(f.config().admin, admin.pubkey(), "nothing changes before acceptance");

    assert_error(f.send(&[ix::admin_accept(stranger.pubkey())], &[&stranger]), TimelockError::NotPendingAdmin);
    f.exec(ix::admin_accept(successor.pubkey()), &[&successor]);
    let config = f.config();
    assert_eq!(config.admin, successor.pubkey());
    assert_eq!(config.pending_admin, anchor_lang::prelude::Pubkey::default());

    // The old admin has lost its powers.
    assert_error(f.send(&[ix::pause(admin.pubkey())], &[&admin]), TimelockError::NotAdmin);
    f.exec(ix::pause(successor.pubkey()), &[&successor]);
}

#[test]
fn admin_transfer_to_self_is_refused_and_only_admin_may_propose() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    assert_error(
        f.send(&[ix::admin_transfer(admin.pubkey(), admin.pubkey())], &[&admin]),
        TimelockError::NotPendingAdmin,
    );
    let intruder = f.actor();
    assert_error(
        f.send(&[ix::admin_transfer(intruder.pubkey(), intruder.pubkey())], &[&intruder]),
        TimelockError::NotAdmin,
    );
}

#[test]
fn pause_and_unpause_are_admin_only() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let intruder = f.actor();
    assert_error(f.send(&[ix::pause(intruder.pubkey())], &[&intruder]), TimelockError::NotAdmin);
    f.exec(ix::pause(admin.pubkey()), &[&admin]);
    assert!(f.config().paused);
    assert_error(f.send(&[ix::unpause(intruder.pubkey())], &[&intruder]), TimelockError::NotAdmin);
    f.exec(ix::unpause(admin.pubkey()), &[&admin]);
    assert!(!f.config().paused);
}

#[test]
fn admin_signature_is_required() {
    // The admin's key is named but a stranger pays and signs: the admin account is not a signer.
    let mut f = TestFixture::new();
    let stranger = f.actor();
    let mut ix = ix::pause(f.admin.pubkey());
    ix.accounts[0].is_signer = false;
    assert_error(f.send(&[ix], &[&stranger]), AnchorError::AccountNotSigner);
}
