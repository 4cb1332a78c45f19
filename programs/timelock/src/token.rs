//! Token movements shared by instructions. Everything goes through `transfer_checked` so that Token-2022 mints
//! (decimals checked, transfer hooks refused by the token program if misconfigured) work like classic SPL mints.

use anchor_lang::prelude::*;
use anchor_lang::system_program;
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

/// Creates a program-owned PDA account. Unlike a bare `create_account`, it also succeeds when someone has
/// pre-funded the address (otherwise anyone could block a booking by sending lamports to a future lease).
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    space: usize,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    let signer = &[signer_seeds];
    let current = account.lamports();
    if current == 0 {
        let accounts = system_program::CreateAccount { from: payer.clone(), to: account.clone() };
        let ctx = CpiContext::new_with_signer(system_program.key(), accounts, signer);
        return system_program::create_account(ctx, rent, space as u64, &crate::ID);
    }
    if current < rent {
        let accounts = system_program::Transfer { from: payer.clone(), to: account.clone() };
        system_program::transfer(CpiContext::new(system_program.key(), accounts), rent - current)?;
    }
    let accounts = system_program::Allocate { account_to_allocate: account.clone() };
    system_program::allocate(CpiContext::new_with_signer(system_program.key(), accounts, signer), space as u64)?;
    let accounts = system_program::Assign { account_to_assign: account.clone() };
    system_program::assign(CpiContext::new_with_signer(system_program.key(), accounts, signer), &crate::ID)
}
