//! SPL Token and Token-2022 plumbing of the fixture: mints, token accounts, minting and balances.

use anchor_lang::prelude::Pubkey;
use timelock_sdk::tokens;

use crate::{Keypair, Signer, TestFixture};

impl TestFixture {
    pub fn create_mint(&mut self, token_program: Pubkey, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let admin = self.admin.insecure_clone();
        let rent = self.svm.minimum_balance_for_rent_exemption(tokens::MINT_LEN);
        let ixs = tokens::create_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), &token_program, decimals, rent);
        self.send(&ixs, &[&admin, &mint]).expect("create mint");
        mint.pubkey()
    }

    pub fn token_program_of(&self, mint: &Pubkey) -> Pubkey {
        self.svm.get_account(mint).expect("mint exists").owner
    }

    /// A new token account of `mint` owned by `owner`.
    pub fn token_account(&mut self, mint: Pubkey, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let admin = self.admin.insecure_clone();
        let token_program = self.token_program_of(&mint);
        let rent = self.svm.minimum_balance_for_rent_exemption(tokens::ACCOUNT_LEN);
        let ixs = tokens::create_token_account(&admin.pubkey(), &account.pubkey(), &mint, owner, &token_program, rent);
        self.send(&ixs, &[&admin, &account]).expect("create token account");
        account.pubkey()
    }

    pub fn mint_to(&mut self, mint: Pubkey, account: Pubkey, amount: u64) {
        let admin = self.admin.insecure_clone();
        let token_program = self.token_program_of(&mint);
        self.send(&[tokens::mint_to(&token_program, &mint, &account, &admin.pubkey(), amount)], &[&admin])
            .expect("mint_to");
    }

    pub fn token_balance(&self, account: &Pubkey) -> u64 {
        let data = self.svm.get_account(account).expect("token account exists").data;
        tokens::balance(&data).expect("token account")
    }

    /// `owner`'s associated token account for `mint`, created if missing and credited with `amount`.
    pub fn funded_ata(&mut self, owner: &Pubkey, mint: Pubkey, amount: u64) -> Pubkey {
        use anchor_spl::associated_token::{
            get_associated_token_address_with_program_id, spl_associated_token_account::instruction,
        };
        let program = self.token_program_of(&mint);
        let admin = self.admin.insecure_clone();
        let create = instruction::create_associated_token_account_idempotent(&admin.pubkey(), owner, &mint, &program);
        self.send(&[create], &[&admin]).expect("create ATA");
        let address = get_associated_token_address_with_program_id(owner, &mint, &program);
        if amount > 0 {
            self.mint_to(mint, address, amount);
        }
        address
    }
}
