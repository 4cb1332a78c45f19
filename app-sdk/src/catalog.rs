//! Human names for the program's compact codes: GPU models (index into the config's multiplier table),
//! regions (8-byte ASCII) and compliance flags.

use timelock::constants::{compliance, gpu_model, GPU_MODEL_SLOTS, REGION_LEN};

/// The GPU models by name. The codes are the program's (`timelock::constants::gpu_model`, in the IDL).
pub const GPU_MODELS: &[(u16, &str)] = &[
    (gpu_model::GPU_H100_SXM, "H100-SXM"),
    (gpu_model::GPU_H100_PCIE, "H100-PCIE"),
    (gpu_model::GPU_H200, "H200"),
    (gpu_model::GPU_A100_80G, "A100-80G"),
    (gpu_model::GPU_A100_40G, "A100-40G"),
    (gpu_model::GPU_L40S, "L40S"),
    (gpu_model::GPU_RTX_4090, "RTX-4090"),
    (gpu_model::GPU_RTX_3090, "RTX-3090"),
    (gpu_model::GPU_A6000, "A6000"),
    (gpu_model::GPU_B200, "B200"),
];

pub fn gpu_model_code(name: &str) -> Option<u16> {
    GPU_MODELS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| *c)
}

/// A model name the catalog does not have, with the names it has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown GPU model {0:?}; known models: {known}", known = known_gpu_models())]
pub struct UnknownGpuModel(pub String);

fn known_gpu_models() -> String {
    GPU_MODELS.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
}

/// [`gpu_model_code`], or an error that lists the known models.
pub fn parse_gpu_model(name: &str) -> Result<u16, UnknownGpuModel> {
    gpu_model_code(name).ok_or_else(|| UnknownGpuModel(name.to_string()))
}

pub fn gpu_model_name(code: u16) -> Option<&'static str> {
    GPU_MODELS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Stake multipliers (bps) for the catalog above, scaled like io.net's per-GPU-class stake: the more valuable
/// the card, the more a supplier must bond per GPU.
pub fn default_gpu_multipliers() -> [u32; GPU_MODEL_SLOTS] {
    let mut table = [0u32; GPU_MODEL_SLOTS];
    for (code, bps) in [
        (gpu_model::GPU_H100_SXM, 50_000),
        (gpu_model::GPU_H100_PCIE, 40_000),
        (gpu_model::GPU_H200, 60_000),
        (gpu_model::GPU_A100_80G, 30_000),
        (gpu_model::GPU_A100_40G, 25_000),
        (gpu_model::GPU_L40S, 20_000),
        (gpu_model::GPU_RTX_4090, 10_000),
        (gpu_model::GPU_RTX_3090, 8_000),
        (gpu_model::GPU_A6000, 12_000),
        (gpu_model::GPU_B200, 80_000),
    ] {
        table[usize::from(code)] = bps;
    }
    table
}

/// Protocol parameters a new deployment starts from (`timelock config init`): a 5 % fee, 200 stake tokens per
/// GPU at 1.0× (9 decimals), a week of unbonding, 10 % of collateral per fault with half to the renter, jail after
/// 3 faults a day, collateral of 2× the hourly value, 5-minute epochs and an hour to dispute for a 10 USDC bond.
pub fn default_config_params(
    treasury: anchor_lang::prelude::Pubkey,
    oracles: Vec<anchor_lang::prelude::Pubkey>,
    oracle_threshold: u8,
) -> timelock::state::ConfigParams {
    timelock::state::ConfigParams {
        treasury,
        protocol_fee_bps: 500,
        min_stake_per_gpu: 200_000_000_000,
        unbonding_period_secs: 7 * 86_400,
        // A fault slashes two hours of the lease's value; collateral holds two faults.
        slash_bps: 20_000,
        slash_renter_share_bps: 5_000,
        jail_fault_threshold: 3,
        jail_window_secs: 86_400,
        jail_cooldown_secs: 86_400,
        collateral_bps: 40_000,
        // One stake token backs one payment token of lease value until governance prices the stake token.
        collateral_rate: timelock::state::CollateralRate { stake_tokens: 1, payment_tokens: 1 },
        min_rental_secs: 3_600,
        epoch_secs: 300,
        dispute_window_secs: 3_600,
        dispute_bond: 10_000_000,
        dispute_timeout_secs: 3 * 86_400,
        oracles,
        oracle_threshold,
        gpu_multipliers_bps: timelock::state::GpuMultipliers(default_gpu_multipliers()),
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error("region code must be 1-{REGION_LEN} characters of A-Z, 0-9 or '-', got {0:?}")]
    Invalid(String),
}

pub fn region_code(region: &str) -> Result<[u8; REGION_LEN], RegionError> {
    let upper = region.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= REGION_LEN
        && bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-');
    if !valid {
        return Err(RegionError::Invalid(region.to_string()));
    }
    let mut code = [0u8; REGION_LEN];
    code[..bytes.len()].copy_from_slice(bytes);
    Ok(code)
}

pub fn region_name(code: &[u8; REGION_LEN]) -> String {
    let len = code.iter().position(|b| *b == 0).unwrap_or(REGION_LEN);
    String::from_utf8_lossy(&code[..len]).into_owned()
}

pub fn compliance_flags(soc2: bool, hipaa: bool, end_to_end_encryption: bool) -> u8 {
    (if soc2 { compliance::SOC2 } else { 0 })
        | (if hipaa { compliance::HIPAA } else { 0 })
        | (if end_to_end_encryption { compliance::END_TO_END_ENCRYPTION } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_names_round_trip() {
        for (code, name) in GPU_MODELS {
            assert_eq!(gpu_model_code(name), Some(*code));
            assert_eq!(gpu_model_name(*code), Some(*name));
            assert!(default_gpu_multipliers()[usize::from(*code)] > 0);
        }
        assert_eq!(gpu_model_code("h100-sxm"), Some(1));
        assert_eq!(gpu_model_code("TPU"), None);
    }

    #[test]
    fn regions() {
        assert_eq!(region_name(&region_code("us-east").unwrap()), "US-EAST");
        assert!(region_code("").is_err());
        assert!(region_code("EU-WEST-12").is_err());
        assert!(region_code("eu west").is_err());
    }

    #[test]
    fn compliance_bits() {
        assert_eq!(compliance_flags(true, true, true), compliance::ALL);
        assert_eq!(compliance_flags(false, true, false), compliance::HIPAA);
    }
}
