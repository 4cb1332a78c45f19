//! Addresses of the program's singleton PDAs, derived at compile time. Checking an account against a constant
//! costs a comparison instead of a `create_program_address` syscall (about 1,500 CU) in every instruction.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::bpf_loader_upgradeable;

use crate::constants::{CONFIG_SEED, STAKE_VAULT_SEED};
use crate::ID_CONST;

const fn derive(seeds: &[&[u8]], program: &Pubkey) -> (Pubkey, u8) {
    let (address, bump) = anchor_lang::derive_program_address(seeds, &program.to_bytes());
    (Pubkey::new_from_array(address), bump)
}

/// The config; also the authority of every program-owned token vault.
pub const CONFIG: (Pubkey, u8) = derive(&[CONFIG_SEED], &ID_CONST);
pub const STAKE_VAULT: (Pubkey, u8) = derive(&[STAKE_VAULT_SEED, &CONFIG.0.to_bytes()], &ID_CONST);
/// The upgradeable loader's record of this program, which names its upgrade authority.
pub const PROGRAM_DATA: Pubkey = derive(&[&ID_CONST.to_bytes()], &bpf_loader_upgradeable::ID).0;

/// Signer seeds of the config PDA, for transfers out of program vaults.
pub const CONFIG_SIGNER_SEEDS: &[&[u8]] = &[CONFIG_SEED, &[CONFIG.1]];

pub const INCENTIVE_POOL: (Pubkey, u8) = derive(&[crate::constants::INCENTIVE_POOL_SEED], &ID_CONST);

/// The canonical PDA of `seeds` (the highest bump whose address is off the curve), as
/// `Pubkey::find_program_address` finds it, at about a fifth of its price on chain.
///
/// The runtime charges `sol_try_find_program_address` 1,500 CU for every bump it tries, about two on average.
/// The same search made of its parts, a SHA-256 syscall (about 150 CU for these seeds) and a curve-point check
/// (159 CU) a bump, costs about 330 CU a try. Records keyed by an outside identity (a GPU, a lease, an
/// incentive epoch) must be created only at the canonical bump, or one identity could have two records, so the
/// search cannot be replaced by a bump the caller supplies.
pub fn find(seeds: &[&[u8]]) -> (Pubkey, u8) {
    #[cfg(target_os = "solana")]
    {
        const MARKER: &[u8] = b"ProgramDerivedAddress";
        const MAX_SEEDS: usize = 16;
        assert!(seeds.len() < MAX_SEEDS, "at most 15 seeds besides the bump");
        let program = crate::ID_CONST.to_bytes();
        // 255 down to 1, as the runtime's search goes.
        for bump in (1..=u8::MAX).rev() {
            let bump_seed = [bump];
            let mut parts: [&[u8]; MAX_SEEDS + 2] = [&[]; MAX_SEEDS + 2];
            parts[..seeds.len()].copy_from_slice(seeds);
            parts[seeds.len()] = &bump_seed;
            parts[seeds.len() + 1] = &program;
            parts[seeds.len() + 2] = MARKER;
            let hash = solana_sha256_hasher::hashv(&parts[..seeds.len() + 3]).to_bytes();
            if !is_on_curve(&hash) {
                return (Pubkey::new_from_array(hash), bump);
            }
        }
        panic!("no bump gives an address off the curve");
    }
    #[cfg(not(target_os = "solana"))]
    Pubkey::find_program_address(seeds, &crate::ID)
}

/// The bump of `account` when it is the canonical PDA of `seeds` (see [`find`]); `wrong_address` otherwise.
pub fn require_canonical(
    account: &Pubkey,
    seeds: &[&[u8]],
    wrong_address: crate::errors::TimelockError,
) -> anchor_lang::Result<u8> {
    let (address, bump) = find(seeds);
    anchor_lang::require_keys_eq!(*account, address, wrong_address);
    Ok(bump)
}

/// Whether `bytes` decode to a point of edwards25519: an address on the curve has a private key, a PDA must not.
#[cfg(target_os = "solana")]
fn is_on_curve(bytes: &[u8; 32]) -> bool {
    const CURVE25519_EDWARDS: u64 = 0;
    let mut unused = 0u8;
    // SAFETY: the syscall reads 32 bytes at `bytes` and writes nothing; it returns 0 for a valid point.
    unsafe {
        solana_define_syscall::definitions::sol_curve_validate_point(CURVE25519_EDWARDS, bytes.as_ptr(), &mut unused)
            == 0
    }
}
