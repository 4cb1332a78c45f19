//! SPL Token / Token-2022 set-up instructions (mints, token accounts, minting) for local clusters, tests and
//! the demo. One builder serves both programs: Token-2022 keeps the classic layouts.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;

pub const MINT_LEN: usize = spl_token_2022::state::Mint::LEN;
pub const ACCOUNT_LEN: usize = spl_token_2022::state::Account::LEN;

/// Creates `mint` (a new keypair's address, which signs) under `token_program`, with `authority` minting.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    token_program: &Pubkey,
    decimals: u8,
    rent_lamports: u64,
) -> [Instruction; 2] {
    [
        system_instruction::create_account(payer, mint, rent_lamports, MINT_LEN as u64, token_program),
        spl_token_2022::instruction::initialize_mint2(token_program, mint, authority, None, decimals)
            .expect("valid mint arguments"),
    ]
}

/// Creates token account `account` (a new keypair's address, which signs) of `mint` for `owner`.
pub fn create_token_account(
    payer: &Pubkey,
    account: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
    token_program: &Pubkey,
    rent_lamports: u64,
) -> [Instruction; 2] {
    [
        system_instruction::create_account(payer, account, rent_lamports, ACCOUNT_LEN as u64, token_program),
        spl_token_2022::instruction::initialize_account3(token_program, account, mint, owner)
            .expect("valid account arguments"),
    ]
}

pub fn mint_to(
    token_program: &Pubkey,
    mint: &Pubkey,
    account: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Instruction {
    spl_token_2022::instruction::mint_to(token_program, mint, account, authority, &[], amount)
        .expect("valid mint_to arguments")
}

/// The amount held by a token account's data (classic layout, also Token-2022's base).
pub fn balance(data: &[u8]) -> Option<u64> {
    spl_token_2022::state::Account::unpack_from_slice(data.get(..ACCOUNT_LEN)?).ok().map(|a| a.amount)
}
