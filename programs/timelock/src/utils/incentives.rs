//! Crediting what renters paid for final seconds to the incentive pool, done by `lease_settle` when the pool is
//! enabled.

use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::pda;
use crate::state::{IncentiveEpoch, IncentivePool, SupplierIncentive};
use crate::utils::token;

/// The remaining accounts `lease_settle` needs once incentives are enabled, in this order.
pub struct IncentiveAccounts<'info> {
    pub pool: &'info AccountInfo<'info>,
    pub epoch: &'info AccountInfo<'info>,
    pub supplier_incentive: &'info AccountInfo<'info>,
    pub payer: &'info AccountInfo<'info>,
    pub system_program: &'info AccountInfo<'info>,
}

impl<'info> IncentiveAccounts<'info> {
    pub fn from_remaining(remaining: &'info [AccountInfo<'info>]) -> Result<Self> {
        let [pool, epoch, supplier_incentive, payer, system_program, ..] = remaining else {
            return err!(TimelockError::IncentiveAccountsMissing);
        };
        require_keys_eq!(*pool.key, pda::INCENTIVE_POOL.0, TimelockError::IncentiveAccountsMissing);
        require_keys_eq!(*system_program.key, anchor_lang::system_program::ID, TimelockError::IncentiveAccountsMissing);
        require!(payer.is_signer && payer.is_writable, TimelockError::IncentiveAccountsMissing);
        Ok(IncentiveAccounts { pool, epoch, supplier_incentive, payer, system_program })
    }

    /// Credits `credit` to `supplier` in the current epoch, creating the epoch and the supplier's record on
    /// first use. Returns the epoch credited.
    ///
    /// An existing record is known by its owner, type and fields instead of by re-deriving its address: the
    /// program creates each only at its PDA (an epoch at `["incentive_epoch", epoch]`, a supplier's at
    /// `["supplier_incentive", supplier, epoch]`), so a program-owned record of that type naming the epoch (and
    /// the supplier) is the one. Only a record about to be created has its address derived.
    pub fn credit(&self, supplier: Pubkey, credit: u64, now: i64) -> Result<u64> {
        let mut pool = Account::<IncentivePool>::try_from(self.pool)?;
        let epoch_index = pool.epoch_at(now);
        let epoch_le = epoch_index.to_le_bytes();

        let mut epoch = if self.epoch.owner == &crate::ID {
            let epoch = Account::<IncentiveEpoch>::try_from(self.epoch)?.into_inner();
            require!(epoch.epoch == epoch_index, TimelockError::IncentiveAccountsMissing);
            epoch
        } else {
            let seeds: &[&[u8]] = &[INCENTIVE_EPOCH_SEED, &epoch_le];
            let bump = crate::pda::require_canonical(self.epoch.key, seeds, TimelockError::IncentiveAccountsMissing)?;
            token::create_pda_account(self.payer, self.epoch, self.system_program, IncentiveEpoch::SPACE, seeds, bump)?;
            // An epoch promises at most what the pool still holds uncommitted.
            let emission = pool.emission_per_epoch.min(pool.funded.saturating_sub(pool.committed));
            pool.committed = pool.committed.checked_add(emission).ok_or(TimelockError::Overflow)?;
            IncentiveEpoch { epoch: epoch_index, emission, credit: 0, paid: 0, bump }
        };
        epoch.credit = epoch.credit.checked_add(credit).ok_or(TimelockError::Overflow)?;

        let mut record = if self.supplier_incentive.owner == &crate::ID {
            let record = Account::<SupplierIncentive>::try_from(self.supplier_incentive)?.into_inner();
            require!(
                record.supplier == supplier && record.epoch == epoch_index,
                TimelockError::IncentiveAccountsMissing
            );
            record
        } else {
            let seeds: &[&[u8]] = &[SUPPLIER_INCENTIVE_SEED, supplier.as_ref(), &epoch_le];
            let record = self.supplier_incentive;
            let bump = crate::pda::require_canonical(record.key, seeds, TimelockError::IncentiveAccountsMissing)?;
            token::create_pda_account(self.payer, record, self.system_program, SupplierIncentive::SPACE, seeds, bump)?;
            SupplierIncentive { supplier, epoch: epoch_index, credit: 0, rent_payer: *self.payer.key, bump }
        };
        record.credit = record.credit.checked_add(credit).ok_or(TimelockError::Overflow)?;

        token::write_new(self.epoch, &epoch)?;
        token::write_new(self.supplier_incentive, &record)?;
        pool.exit(&crate::ID)?;
        Ok(epoch_index)
    }
}
