//! Pure arithmetic of stakes, fees and shares. Every product is taken in u128 and every result checked, so a
//! crafted input yields `None` (mapped to `TimelockError::Overflow`) instead of wrapping.

use crate::constants::BPS_DENOMINATOR;

/// Stake a worker must keep bonded: base stake per GPU × the GPU model's multiplier × GPU count.
/// Rounds up so that a supplier is never under-collateralised by rounding.
pub fn required_stake(base_per_gpu: u64, multiplier_bps: u32, gpu_count: u16) -> Option<u64> {
    let numerator = (base_per_gpu as u128).checked_mul(multiplier_bps as u128)?.checked_mul(gpu_count as u128)?;
    let stake = numerator.div_ceil(BPS_DENOMINATOR as u128);
    u64::try_from(stake).ok()
}

/// `amount × bps / 10,000`, rounded down (the share taken from someone is never rounded up against them).
pub fn bps_floor(amount: u64, bps: u64) -> Option<u64> {
    let product = (amount as u128).checked_mul(bps as u128)?;
    u64::try_from(product / BPS_DENOMINATOR as u128).ok()
}

/// Stake not committed anywhere: what may be unbonded or used to register another worker. Slashing can take
/// `staked` below the commitments; free stake is then zero, not an underflow.
pub fn free_stake(staked: u64, unbonding: u64, reserved: u64, locked: u64) -> Option<u64> {
    let committed = unbonding.checked_add(reserved)?.checked_add(locked)?;
    Some(staked.saturating_sub(committed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_stake_scales_with_multiplier_and_count() {
        assert_eq!(required_stake(200, 10_000, 1), Some(200));
        assert_eq!(required_stake(200, 25_000, 8), Some(4_000));
        assert_eq!(required_stake(0, 25_000, 8), Some(0));
    }

    #[test]
    fn required_stake_rounds_up() {
        // 3 × 1.0001 = 3.0003 -> 4 base units
        assert_eq!(required_stake(3, 10_001, 1), Some(4));
    }

    #[test]
    fn required_stake_overflow_is_none() {
        assert_eq!(required_stake(u64::MAX, 1_000_000, 16), None);
        assert_eq!(required_stake(u64::MAX, 10_000, 1), Some(u64::MAX));
    }

    #[test]
    fn bps_floor_rounds_down() {
        assert_eq!(bps_floor(999, 100), Some(9));
        assert_eq!(bps_floor(u64::MAX, 10_000), Some(u64::MAX));
        assert_eq!(bps_floor(u64::MAX, 10_001), None);
    }

    #[test]
    fn free_stake_never_underflows() {
        assert_eq!(free_stake(1_000, 100, 200, 300), Some(400));
        assert_eq!(free_stake(100, 100, 200, 300), Some(0));
        assert_eq!(free_stake(1, u64::MAX, 1, 0), None);
    }
}
