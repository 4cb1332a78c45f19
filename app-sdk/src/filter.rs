//! The worker search, with one set of names for every client: the CLI's `worker list` flags and the indexer
//! API's query parameters are this struct's fields, and both apply it through [`WorkerFilter::check`].

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use timelock::constants::REGION_LEN;
use timelock::state::Worker;

use crate::catalog;

/// The largest page a list returns.
pub const MAX_LIMIT: u32 = 500;
pub const DEFAULT_LIMIT: u32 = 50;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WorkerSort {
    /// Cheapest first.
    #[default]
    #[serde(rename = "price")]
    Price,
    #[serde(rename = "-price")]
    PriceDescending,
    /// Most GPUs first.
    #[serde(rename = "-gpus")]
    GpusDescending,
    /// Newest first.
    #[serde(rename = "-registered")]
    RegisteredDescending,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct WorkerFilter {
    /// Catalog name, any case (`H100-SXM`).
    pub gpu_model: Option<String>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 65_535))]
    pub min_gpus: Option<u16>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 65_535))]
    pub min_vram_gib: Option<u16>,
    /// Region code, any case (`US-EAST`).
    pub region: Option<String>,
    /// Lowest connectivity tier accepted.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 255))]
    pub min_connectivity_tier: Option<u8>,
    /// Compliance bits, all required (1 SOC 2, 2 HIPAA, 4 end-to-end encryption).
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 255))]
    pub compliance: Option<u8>,
    pub green: Option<bool>,
    /// Bookable now (`Worker::is_bookable`: available, not leased, not jailed, all its GPUs bound), or not.
    pub available: Option<bool>,
    /// Highest price per GPU-hour, payment-mint base units.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 18_446_744_073_709_551_615_u64))]
    pub max_price: Option<u64>,
    /// Supplier account address.
    #[cfg_attr(feature = "openapi", param(format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub supplier: Option<String>,
    pub sort: Option<WorkerSort>,
    /// Page size, 1-500 (default 50).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (API only).
    #[cfg_attr(feature = "openapi", param(pattern = "^[A-Za-z0-9_-]{1,512}$"))]
    pub cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error(transparent)]
    UnknownGpuModel(#[from] catalog::UnknownGpuModel),
    #[error(transparent)]
    Region(#[from] catalog::RegionError),
    #[error("{0:?} is not a base58 public key")]
    BadAddress(String),
    #[error("limit must be 1-{MAX_LIMIT}, got {0}")]
    BadLimit(u32),
}

/// A filter whose names were resolved against the catalog: what both clients compare with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedFilter {
    pub gpu_model: Option<(u16, &'static str)>,
    pub region: Option<([u8; REGION_LEN], String)>,
    pub supplier: Option<Pubkey>,
    pub sort: WorkerSort,
    pub limit: u32,
}

impl WorkerFilter {
    /// Resolves names and bounds, or says which parameter is wrong.
    pub fn check(&self) -> Result<CheckedFilter, FilterError> {
        let gpu_model = match &self.gpu_model {
            Some(name) => {
                let code = catalog::parse_gpu_model(name)?;
                Some((code, catalog::gpu_model_name(code).unwrap_or("unknown")))
            }
            None => None,
        };
        let region = match &self.region {
            Some(name) => {
                let code = catalog::region_code(name)?;
                Some((code, catalog::region_name(&code)))
            }
            None => None,
        };
        let supplier = match &self.supplier {
            Some(text) => Some(text.parse::<Pubkey>().map_err(|_| FilterError::BadAddress(text.clone()))?),
            None => None,
        };
        let limit = match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => n,
            n => return Err(FilterError::BadLimit(n)),
        };
        Ok(CheckedFilter { gpu_model, region, supplier, sort: self.sort.unwrap_or_default(), limit })
    }

    /// Whether a worker on chain passes the filter (the indexer answers the same question in SQL, over the same
    /// view: `WorkerView`'s columns).
    pub fn matches(&self, checked: &CheckedFilter, w: &Worker) -> bool {
        let s = &w.spec;
        checked.gpu_model.is_none_or(|(code, _)| s.gpu_model == code)
            && checked.region.as_ref().is_none_or(|(code, _)| s.region == *code)
            && checked.supplier.is_none_or(|k| w.supplier == k)
            && self.min_gpus.is_none_or(|n| s.gpu_count >= n)
            && self.min_vram_gib.is_none_or(|n| s.vram_gib >= n)
            && self.min_connectivity_tier.is_none_or(|t| s.connectivity_tier >= t)
            && self.compliance.is_none_or(|bits| s.compliance & bits == bits)
            && self.green.is_none_or(|g| s.green_energy == g)
            && self.available.is_none_or(|a| w.is_bookable() == a)
            && self.max_price.is_none_or(|p| s.price_per_gpu_hour <= p)
    }
}
