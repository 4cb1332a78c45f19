use anchor_lang::prelude::*;

use crate::constants::DEVICE_SEED;
use crate::errors::TimelockError;
use crate::pda;
use crate::utils::token;

/// The one worker a device key (one host's agent) backs. PDA `["device", device_key]`: created when a worker
/// registers or moves to the key, closed when it deregisters or moves away, so one host can never be sold as
/// two workers.
#[account]
#[derive(InitSpace, Debug)]
pub struct Device {
    /// The worker this device key backs.
    pub worker: Pubkey,
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl Device {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    /// Records that `device_key` backs `worker`, at `record`, which must be the key's PDA. Refuses a key that
    /// already backs a worker.
    pub fn bind<'info>(
        record: &AccountInfo<'info>,
        device_key: &Pubkey,
        worker: Pubkey,
        payer: &AccountInfo<'info>,
        system_program: &AccountInfo<'info>,
    ) -> Result<()> {
        let seeds: &[&[u8]] = &[DEVICE_SEED, device_key.as_ref()];
        let bump = pda::require_canonical(record.key, seeds, TimelockError::InvalidDeviceRecord)?;
        require!(record.owner != &crate::ID || record.data_is_empty(), TimelockError::DeviceKeyInUse);
        token::create_pda_account(payer, record, system_program, Self::SPACE, seeds, bump)?;
        token::write_new(record, &Device { worker, bump })
    }
}
