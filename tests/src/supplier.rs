//! Suppliers: [`SupplierActor`], registration and staking.

use anchor_lang::prelude::Pubkey;
use timelock_sdk::{ix, pda, TOKEN_PROGRAM_ID};

use crate::{Keypair, SendResult, Signer, TestFixture};

/// A supplier with a funded stake token account and a payment token account for its earnings.
pub struct SupplierActor {
    pub authority: Keypair,
    pub stake_tokens: Pubkey,
    pub payment_tokens: Pubkey,
}

impl SupplierActor {
    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }
    pub fn supplier(&self) -> Pubkey {
        pda::supplier(&self.key()).0
    }
}

impl TestFixture {
    pub fn supplier_account(&self, supplier: &SupplierActor) -> timelock::state::Supplier {
        self.account(&supplier.supplier())
    }

    /// A registered supplier holding `tokens` stake tokens in its own account (nothing deposited yet).
    pub fn supplier(&mut self, tokens: u64) -> SupplierActor {
        let authority = self.actor();
        let stake_tokens = self.token_account(self.stake_mint, &authority.pubkey());
        self.mint_to(self.stake_mint, stake_tokens, tokens);
        let payment_tokens = self.token_account(self.payment_mint, &authority.pubkey());
        self.exec(ix::supplier_register(authority.pubkey(), self.payment_mint, TOKEN_PROGRAM_ID), &[&authority]);
        SupplierActor { authority, stake_tokens, payment_tokens }
    }

    pub fn stake_accounts(&self, supplier: &SupplierActor) -> ix::StakeAccounts {
        ix::StakeAccounts {
            authority: supplier.key(),
            stake_mint: self.stake_mint,
            supplier_tokens: supplier.stake_tokens,
            token_program: self.stake_token_program,
        }
    }

    pub fn deposit(&mut self, supplier: &SupplierActor, amount: u64) -> SendResult {
        let ix = ix::stake_deposit(self.stake_accounts(supplier), amount);
        self.send(&[ix], &[&supplier.authority])
    }

    /// A supplier that registered and deposited `stake`.
    pub fn staked_supplier(&mut self, stake: u64) -> SupplierActor {
        let supplier = self.supplier(stake);
        self.deposit(&supplier, stake).expect("stake_deposit");
        supplier
    }
}
