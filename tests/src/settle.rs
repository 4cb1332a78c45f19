//! Settlement and the incentive pool: settle accounts, enabling incentives, permissionless settling.

use anchor_lang::prelude::Pubkey;
use timelock_sdk::{ix, pda, TOKEN_PROGRAM_ID};

use crate::{Renter, SendResult, Signer, TestFixture};

impl TestFixture {
    pub fn settle_accounts(&self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> ix::SettleAccounts {
        ix::SettleAccounts {
            renter: renter.key(),
            cluster_id,
            worker: worker.worker,
            supplier: worker.supplier,
            treasury_payment_tokens: self.treasury_payment_tokens,
            renter_payment_tokens: renter.payment_tokens,
            renter_stake_tokens: renter.stake_tokens,
            treasury_stake_tokens: self.treasury_stake_tokens,
            payment_mint: self.payment_mint,
            stake_mint: self.stake_mint,
            payment_token_program: TOKEN_PROGRAM_ID,
            stake_token_program: self.stake_token_program,
            incentives: None,
        }
    }

    /// The admin opens the incentive pool (epochs of `epoch_secs`, `emission` per epoch) and funds it with
    /// `funded` freshly minted stake tokens; returns the admin's stake token account it funded from.
    pub fn enable_incentives(&mut self, emission: u64, epoch_secs: i64, funded: u64) -> Pubkey {
        let admin = self.admin.insecure_clone();
        let (mint, program) = (self.stake_mint, self.stake_token_program);
        self.exec(ix::incentives_init(admin.pubkey(), mint, program, emission, epoch_secs), &[&admin]);
        let admin_tokens = self.token_account(mint, &admin.pubkey());
        self.mint_to(mint, admin_tokens, funded);
        self.exec(ix::incentives_fund(admin.pubkey(), mint, admin_tokens, program, funded), &[&admin]);
        admin_tokens
    }

    /// Settles with a fresh payer (settlement is permissionless), crediting incentives when they are enabled.
    pub fn settle(&mut self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> SendResult {
        let cranker = self.actor();
        let mut accounts = self.settle_accounts(renter, cluster_id, worker);
        if self.config().incentives_enabled {
            let pool: timelock::state::IncentivePool = self.account(&pda::incentive_pool().0);
            accounts.incentives =
                Some(ix::IncentiveCredit { epoch: pool.epoch_at(self.now()), payer: cranker.pubkey() });
        }
        self.send(&[ix::lease_settle(accounts)], &[&cranker])
    }
}
