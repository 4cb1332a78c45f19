//! Token movements shared by instructions. Everything goes through `transfer_checked` so that Token-2022 mints
//! (decimals checked, transfer hooks refused by the token program if misconfigured) work like classic SPL mints.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::pda;

pub fn transfer<'info>(
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    from: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    authority: AccountInfo<'info>,
    signer_seeds: &[&[&[u8]]],
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority,
    };
    let ctx = CpiContext::new_with_signer(token_program.key(), accounts, signer_seeds);
    token_interface::transfer_checked(ctx, amount, mint.decimals)
}

/// Moves tokens out of a vault whose authority is the config PDA.
pub fn transfer_from_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    config: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    transfer(token_program, mint, vault, to, config, &[pda::CONFIG_SIGNER_SEEDS], amount)
}
