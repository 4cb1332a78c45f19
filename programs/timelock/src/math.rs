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

/// What a lease costs per hour: the locked price per GPU × its GPUs.
pub fn hourly_rate(price_per_gpu_hour: u64, gpu_count: u16) -> Option<u64> {
    price_per_gpu_hour.checked_mul(u64::from(gpu_count))
}

/// Escrow for `hours` of a lease. Bookings are whole hours, so this is exact: no rounding enters the escrow.
pub fn lease_cost(hourly_rate: u64, hours: u32) -> Option<u64> {
    u64::try_from((hourly_rate as u128).checked_mul(hours as u128)?).ok()
}

/// Gross price of `secs` proven seconds, rounded down: the renter never pays for a fraction of a base unit.
/// Always computed from the cumulative total so that rounding never accumulates across settlements.
pub fn payment_for(hourly_rate: u64, secs: u64) -> Option<u64> {
    let product = (hourly_rate as u128).checked_mul(secs as u128)?;
    u64::try_from(product / crate::constants::SECS_PER_HOUR as u128).ok()
}

/// What a settlement moves now: `(gross, fee)` newly owed for `payable_secs` cumulative proven seconds, given
/// what earlier settlements already paid. The fee is cumulative too (floor of the cumulative gross). If the
/// payable total is below what was paid (a cluster ended earlier than a resolved total), nothing more is owed:
/// a lease must never be wedged by a shrinking cap.
pub fn settlement_delta(
    hourly_rate: u64,
    payable_secs: u64,
    fee_bps: u16,
    gross_paid: u64,
    fees_paid: u64,
) -> Option<(u64, u64)> {
    let gross_total = payment_for(hourly_rate, payable_secs)?;
    let fee_total = bps_floor(gross_total, u64::from(fee_bps))?;
    Some((gross_total.saturating_sub(gross_paid), fee_total.saturating_sub(fees_paid)))
}

/// The largest value that at least `threshold` voters attest to (the `threshold`-th largest vote).
/// Fewer than `threshold` votes means nothing is agreed: 0.
pub fn quorum_value(votes: &mut [u64], threshold: usize) -> u64 {
    if threshold == 0 || votes.len() < threshold {
        return 0;
    }
    sort_descending(votes);
    votes[threshold - 1]
}

/// Insertion sort, largest first: votes are at most `MAX_ORACLES`, and on SBF the standard library's generic sort
/// costs several times more for so few.
fn sort_descending(values: &mut [u64]) {
    for i in 1..values.len() {
        let value = values[i];
        let mut j = i;
        while j > 0 && values[j - 1] < value {
            values[j] = values[j - 1];
            j -= 1;
        }
        values[j] = value;
    }
}

/// [`quorum_value`] once `missing` more votes can no longer change it: the `threshold`-th largest of the votes
/// given is already what it would be with any missing votes added (each may be anything). `None` until then.
pub fn settled_quorum_value(votes: &mut [u64], threshold: usize, missing: usize) -> Option<u64> {
    if threshold == 0 || votes.len() < threshold || missing >= threshold {
        return None;
    }
    sort_descending(votes);
    // Missing votes below every given one leave it at the threshold-th largest given; above every given one they
    // raise it to the (threshold - missing)-th. Settled when both are the same.
    let highest_possible = votes[threshold - missing - 1];
    (highest_possible == votes[threshold - 1]).then_some(votes[threshold - 1])
}

/// Two-stage finality of a lease's proven seconds and of its faults (Filecoin FIP-0010 style): a newly attested total
/// waits in `pending` for the dispute window before it becomes `final` (payable). A total attested while another waits
/// is staged when that one matures, so payouts under continuous attestation lag by one to two windows; once the latest
/// total is itself a window old, it is final at once. No value ever skips its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finality {
    pub final_total: u64,
    pub pending_total: u64,
    pub pending_since: i64,
}

impl Finality {
    /// `latest_total` is the newest attested total, first attested at `latest_at`.
    pub fn advance(self, latest_total: u64, latest_at: i64, now: i64, window_secs: i64) -> Finality {
        if now >= latest_at.saturating_add(window_secs) {
            let settled = self.final_total.max(latest_total);
            return Finality { final_total: settled, pending_total: settled, pending_since: latest_at };
        }
        let mut next = self;
        let matured = now >= self.pending_since.saturating_add(window_secs);
        if matured {
            next.final_total = next.final_total.max(self.pending_total);
        }
        if latest_total > next.pending_total && (matured || next.pending_total == next.final_total) {
            next.pending_total = latest_total;
            next.pending_since = now;
        }
        next
    }

    /// Nothing attested is still waiting.
    pub fn settled(&self, latest_total: u64) -> bool {
        self.final_total >= latest_total
    }
}

/// Slash for `new_faults` faults at `per_fault` each, capped by what is left of the lease's own collateral: faults
/// on one lease never reach the bonds that protect other renters.
pub fn slash_amount(per_fault: u64, new_faults: u64, collateral_left: u64) -> u64 {
    per_fault.saturating_mul(new_faults).min(collateral_left)
}

/// Stake base units worth `payment_units` (payment base units) when `stake_tokens` whole stake tokens are worth
/// `payment_tokens` whole payment tokens. Rounded up: collateral and slashes never round in the supplier's favour.
pub fn payment_to_stake(
    payment_units: u64,
    stake_tokens: u64,
    payment_tokens: u64,
    payment_decimals: u8,
    stake_decimals: u8,
) -> Option<u64> {
    let numerator = (payment_units as u128)
        .checked_mul(stake_tokens as u128)?
        .checked_mul(10u128.checked_pow(u32::from(stake_decimals))?)?;
    let denominator = (payment_tokens as u128).checked_mul(10u128.checked_pow(u32::from(payment_decimals))?)?;
    if denominator == 0 {
        return None;
    }
    u64::try_from(numerator.div_ceil(denominator)).ok()
}

/// A supplier's share of an epoch's emission: `emission × supplier_credit / total_credit`, rounded down (the
/// remainder stays in the pool).
pub fn pro_rata(emission: u64, supplier_credit: u64, total_credit: u64) -> Option<u64> {
    if total_credit == 0 {
        return Some(0);
    }
    let share = (emission as u128).checked_mul(supplier_credit as u128)? / total_credit as u128;
    u64::try_from(share).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_sort_orders_like_the_standard_one() {
        let mut seed = 7u64;
        for len in 0..=crate::constants::MAX_ORACLES {
            for _ in 0..50 {
                let mut values: Vec<u64> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (seed >> 60) % 5
                    })
                    .collect();
                let mut expected = values.clone();
                expected.sort_unstable_by(|a, b| b.cmp(a));
                sort_descending(&mut values);
                assert_eq!(values, expected);
            }
        }
    }

    #[test]
    fn a_quorum_is_settled_only_when_missing_votes_cannot_move_it() {
        // 2 of 3: two agreeing verdicts decide; two that disagree wait for the third, whatever it says.
        assert_eq!(settled_quorum_value(&mut [1_800, 1_800], 2, 1), Some(1_800));
        assert_eq!(settled_quorum_value(&mut [0, 3_600], 2, 1), None);
        assert_eq!(settled_quorum_value(&mut [0, 3_600, 3_600], 2, 0), Some(3_600), "one low liar is outvoted");
        assert_eq!(settled_quorum_value(&mut [0, 0, 3_600], 2, 0), Some(0));
        assert_eq!(settled_quorum_value(&mut [3_600], 2, 2), None, "one verdict never decides");
        // 3 of 5 with four given: settled only if the 2nd and 3rd largest agree.
        assert_eq!(settled_quorum_value(&mut [5, 9, 7, 7], 3, 1), Some(7));
        assert_eq!(settled_quorum_value(&mut [5, 9, 7, 6], 3, 1), None);
        assert_eq!(settled_quorum_value(&mut [1, 2], 2, 2), None, "as many missing as the threshold: open");
        // Settled values are what the full quorum would give.
        for extra in [0, 1_800, 3_600, u64::MAX] {
            assert_eq!(quorum_value(&mut [1_800, 1_800, extra], 2), 1_800);
        }
    }

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

    #[test]
    fn lease_cost_is_exact_and_payment_rounds_down() {
        let rate = hourly_rate(2_000_000, 8).unwrap();
        assert_eq!(lease_cost(rate, 3), Some(48_000_000));
        assert_eq!(payment_for(rate, 3_600), Some(16_000_000));
        // 1 second of 7 units/hour is 0.0019.. units: the renter pays nothing for it.
        assert_eq!(payment_for(7, 1), Some(0));
        assert_eq!(payment_for(7, 3_599), Some(6));
        assert_eq!(hourly_rate(u64::MAX, 2), None);
        assert_eq!(lease_cost(u64::MAX, 2), None);
    }

    #[test]
    fn cumulative_settlements_never_drift() {
        // Settling every second pays exactly what one settlement at the end would.
        let (rate, fee_bps) = (7u64, 333u16);
        let (mut gross_paid, mut fees_paid) = (0u64, 0u64);
        for secs in 1..=7_200u64 {
            let (gross, fee) = settlement_delta(rate, secs, fee_bps, gross_paid, fees_paid).unwrap();
            gross_paid += gross;
            fees_paid += fee;
        }
        assert_eq!(settlement_delta(rate, 7_200, fee_bps, 0, 0), Some((gross_paid, fees_paid)));
        assert_eq!(gross_paid, 14);
        assert_eq!(fees_paid, 0);
        assert_eq!(settlement_delta(rate, 10, fee_bps, 100, 0), Some((0, 0)), "nothing more when already paid");
    }

    #[test]
    fn quorum_takes_the_threshold_th_largest() {
        assert_eq!(quorum_value(&mut [100, 300, 200], 2), 200);
        assert_eq!(quorum_value(&mut [100, 300, 200], 1), 300);
        assert_eq!(quorum_value(&mut [100, 300, 200], 3), 100);
        assert_eq!(quorum_value(&mut [500], 2), 0);
        assert_eq!(quorum_value(&mut [u64::MAX, 0, 0], 2), 0, "one liar cannot move the quorum");
    }

    #[test]
    fn finality_waits_a_full_window() {
        let window = 100;
        let start = Finality { final_total: 0, pending_total: 0, pending_since: 0 };
        let f = start.advance(60, 1_000, 1_000, window);
        assert_eq!(f, Finality { final_total: 0, pending_total: 60, pending_since: 1_000 });
        // A newer total while 60 waits is not staged yet.
        let f = f.advance(120, 1_050, 1_050, window);
        assert_eq!(f, Finality { final_total: 0, pending_total: 60, pending_since: 1_000 });
        // 60 matures; 120 (attested at 1,050) starts its window from when it is staged.
        let f = f.advance(120, 1_050, 1_100, window);
        assert_eq!(f, Finality { final_total: 60, pending_total: 120, pending_since: 1_100 });
        assert!(!f.settled(120));
        // Once 120 is a full window old it is final, whatever was staged.
        let f = f.advance(120, 1_050, 1_150, window);
        assert_eq!(f.final_total, 120);
        assert!(f.settled(120));
        // Zero window: final at once.
        assert_eq!(start.advance(30, 5, 5, 0).final_total, 30);
    }

    #[test]
    fn slash_is_capped_by_the_leases_collateral() {
        assert_eq!(slash_amount(100, 2, 10_000), 200);
        assert_eq!(slash_amount(100, 2, 150), 150);
        assert_eq!(slash_amount(u64::MAX, u64::MAX, 7), 7);
    }

    #[test]
    fn payment_value_converts_across_decimals() {
        // 16 USDC (6 decimals) at 1 stake token per USDC is 16 stake tokens (9 decimals), not 0.016.
        assert_eq!(payment_to_stake(16_000_000, 1, 1, 6, 9), Some(16_000_000_000));
        // 3 stake tokens per 2 USDC.
        assert_eq!(payment_to_stake(2_000_000, 3, 2, 6, 9), Some(3_000_000_000));
        // Fewer stake decimals than payment decimals: rounds up, never to zero.
        assert_eq!(payment_to_stake(1, 1, 1, 6, 0), Some(1));
        assert_eq!(payment_to_stake(1, 1, 0, 6, 9), None);
        assert_eq!(payment_to_stake(u64::MAX, u64::MAX, 1, 0, 30), None);
    }

    #[test]
    fn pro_rata_rounds_down_and_never_exceeds_the_emission() {
        assert_eq!(pro_rata(1_000, 1, 3), Some(333));
        assert_eq!(pro_rata(1_000, 3, 3), Some(1_000));
        assert_eq!(pro_rata(1_000, 0, 0), Some(0));
        assert_eq!(pro_rata(u64::MAX, u64::MAX, u64::MAX), Some(u64::MAX));
        let shares: u64 = [1u64, 1, 1].iter().map(|s| pro_rata(1_000, *s, 3).unwrap()).sum();
        assert!(shares <= 1_000);
    }
}
