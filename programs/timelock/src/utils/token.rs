//! Token movements shared by instructions. Everything goes through `transfer_checked` so that Token-2022 mints
//! (decimals checked, transfer hooks refused by the token program if misconfigured) work like classic SPL mints.

use anchor_lang::prelude::*;
use anchor_lang::system_program;
use anchor_spl::token_2022::spl_token_2022::generic_token_account::GenericTokenAccount;
use anchor_spl::token_2022::spl_token_2022::state::Account as SplAccount;
use anchor_spl::token_interface::{self, Mint, TokenInterface, TransferChecked};

use crate::errors::TimelockError;
use crate::pda;
use crate::state::Cluster;

/// A mint as transfers need it: its token program, its account and its decimals (fixed for the mint's life;
/// the config records those of its two mints, so hot paths never deserialize a mint).
pub struct Tokens<'info> {
    program: Pubkey,
    mint: AccountInfo<'info>,
    decimals: u8,
}

impl<'info> Tokens<'info> {
    pub fn of(program: &Interface<'info, TokenInterface>, mint: &impl ToAccountInfo<'info>, decimals: u8) -> Self {
        Tokens { program: program.key(), mint: mint.to_account_info(), decimals }
    }

    /// Moves `amount` from `from` to `to`. The token program checks both accounts against the mint and its
    /// decimals, and the authority's signature.
    pub fn transfer(
        &self,
        from: &impl ToAccountInfo<'info>,
        to: &impl ToAccountInfo<'info>,
        authority: AccountInfo<'info>,
        signer_seeds: &[&[&[u8]]],
        amount: u64,
    ) -> Result<()> {
        let accounts = TransferChecked {
            from: from.to_account_info(),
            mint: self.mint.clone(),
            to: to.to_account_info(),
            authority,
        };
        let ctx = CpiContext::new_with_signer(self.program, accounts, signer_seeds);
        token_interface::transfer_checked(ctx, amount, self.decimals)
    }

    /// Moves tokens out of a vault whose authority is the config PDA.
    pub fn transfer_from_vault(
        &self,
        vault: &impl ToAccountInfo<'info>,
        to: &impl ToAccountInfo<'info>,
        config: AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        self.transfer(vault, to, config, &[pda::CONFIG_SIGNER_SEEDS], amount)
    }

    /// Moves tokens out of a cluster's escrow, whose authority is the cluster PDA.
    pub fn transfer_from_escrow(
        &self,
        escrow: &impl ToAccountInfo<'info>,
        to: &impl ToAccountInfo<'info>,
        cluster: &Account<'info, Cluster>,
        amount: u64,
    ) -> Result<()> {
        let signer = cluster.signer();
        let seeds: &[&[u8]] = &signer.seeds();
        self.transfer(escrow, to, cluster.to_account_info(), &[seeds], amount)
    }
}

/// Checks that `account` is a token account of `token_program` for `mint` held by `owner`, reading only those
/// fields (what Anchor's `token::` constraints check, at a fraction of the cost of unpacking the account).
pub fn require_token_account(
    account: &AccountInfo,
    token_program: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
) -> Result<()> {
    use anchor_lang::error::ErrorCode;
    require_keys_eq!(*account.owner, *token_program, ErrorCode::ConstraintTokenTokenProgram);
    let data = account.try_borrow_data()?;
    require!(SplAccount::valid_account_data(&data), ErrorCode::AccountDidNotDeserialize);
    require_keys_eq!(*SplAccount::unpack_account_mint_unchecked(&data), *mint, ErrorCode::ConstraintTokenMint);
    require_keys_eq!(*SplAccount::unpack_account_owner_unchecked(&data), *owner, ErrorCode::ConstraintTokenOwner);
    Ok(())
}

/// Creates a program-owned account at the PDA of `seeds` and `bump`. Unlike a bare `create_account`, it also
/// succeeds when someone has pre-funded the address (otherwise anyone could block a booking by sending lamports
/// to a future lease).
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    space: usize,
    seeds: &[&[u8]],
    bump: u8,
) -> Result<()> {
    // The longest seeds of the program's records have three parts; a small array is cheaper to fill.
    const MAX_SEEDS: usize = 4;
    let bump_seed = [bump];
    let mut signer_seeds: [&[u8]; MAX_SEEDS] = [&[]; MAX_SEEDS];
    signer_seeds[..seeds.len()].copy_from_slice(seeds);
    signer_seeds[seeds.len()] = &bump_seed;
    let signer = &[&signer_seeds[..=seeds.len()]];
    let rent = Rent::get()?.minimum_balance(space);
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

/// Token-2022 mint extensions that only describe the mint (name, symbol, grouping). Every other extension lets
/// the issuer or the mint itself move, block, tax, rescale or hide the program's tokens (permanent delegate,
/// transfer hook, pausable, default-frozen accounts, transfer fee, close authority, non-transferable,
/// confidential transfers, interest or scaled UI amounts), or is unknown to this program: refused.
const DESCRIPTIVE_EXTENSIONS: [u16; 6] = [
    18, // MetadataPointer
    19, // TokenMetadata
    20, // GroupPointer
    21, // TokenGroup
    22, // GroupMemberPointer
    23, // TokenGroupMember
];

/// Refuses a mint whose extensions could take or freeze what the program holds. A classic SPL mint has none.
/// A freeze authority is accepted (USDC has one): trusting its issuer not to freeze the program's vaults is the
/// price of settling in such a stablecoin, and docs/security.md says so.
pub fn require_safe_mint(mint: &InterfaceAccount<Mint>) -> Result<()> {
    require!(mint.decimals <= crate::constants::MAX_MINT_DECIMALS, TimelockError::UnsupportedMintDecimals);
    let info = mint.to_account_info();
    let data = info.try_borrow_data()?;
    for extension in mint_extension_types(&data).ok_or(TimelockError::UnsupportedMintExtension)? {
        require!(DESCRIPTIVE_EXTENSIONS.contains(&extension), TimelockError::UnsupportedMintExtension);
    }
    Ok(())
}

/// The extension types of a Token-2022 mint's TLV area (after the 165-byte base padded to an account's size and
/// the account-type byte), `None` if the area is malformed.
fn mint_extension_types(data: &[u8]) -> Option<Vec<u16>> {
    const BASE: usize = 165;
    if data.len() <= BASE {
        return Some(Vec::new());
    }
    let mut types = Vec::new();
    let mut rest = data.get(BASE + 1..)?;
    while rest.len() >= 4 {
        let extension = u16::from_le_bytes([rest[0], rest[1]]);
        let length = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        if extension == 0 {
            break;
        }
        types.push(extension);
        rest = rest.get(4 + length..)?;
    }
    Some(types)
}

/// Writes a freshly created account's discriminator and data.
pub fn write_new<T: AccountSerialize>(info: &AccountInfo, value: &T) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    let mut writer: &mut [u8] = &mut data;
    value.try_serialize(&mut writer)
}
