//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the handlers' annotations and the very types
//! they answer with (the SDK's views, the derived rows, the error body), so that it cannot drift from them.

use serde_json::Value;
use timelock_sdk::filter::WorkerSort;
use timelock_sdk::view::{ClusterView, LeaseView, Purpose, Status, SupplierView, WorkerView};
use timelock_service_kit::{ErrorBody, ErrorCode, ErrorDetail};
use utoipa::OpenApi;

use crate::api::accounts::*;
use crate::api::console::*;
use crate::api::history::*;
use crate::api::intervals::*;
use crate::api::money::*;
use crate::api::*;
use crate::rows::{Attestation, Dispute, DisputeKind, Payout, PayoutKind, Slash};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "timelock indexer API",
        description = "The timelock program's accounts and events, mirrored from chain. An account's body is its \
                       view (timelock_sdk::view), the JSON `timelock … show -o json` prints. Amounts are token base \
                       units (exact u64); times are Unix seconds."
    ),
    paths(
        list_workers,
        one_worker,
        list_suppliers,
        one_supplier,
        supplier_totals,
        list_clusters,
        one_cluster,
        list_leases,
        one_lease,
        lease_attestations,
        lease_intervals,
        list_payouts,
        list_slashes,
        stats,
        daily_stats,
        console_config,
        health,
        ready
    ),
    components(schemas(
        WorkerView,
        SupplierView,
        ClusterView,
        LeaseView,
        Purpose,
        Status,
        WorkerSort,
        Payout,
        PayoutKind,
        Slash,
        Attestation,
        ConsoleConfig,
        Daily,
        Day,
        DailyPrice,
        LeaseIntervals,
        OracleIntervals,
        OracleAnswer,
        OracleFailure,
        Dispute,
        DisputeKind,
        ErrorBody,
        ErrorDetail,
        ErrorCode
    ))
)]
struct IndexerApi;

/// Every route the router serves under `/v1` and `/health`; a test checks that each is in the document.
pub const PATHS: &[&str] = &[
    "/v1/workers",
    "/v1/workers/{address}",
    "/v1/suppliers",
    "/v1/suppliers/{address}",
    "/v1/suppliers/{address}/totals",
    "/v1/clusters",
    "/v1/clusters/{address}",
    "/v1/leases",
    "/v1/leases/{address}",
    "/v1/leases/{address}/attestations",
    "/v1/leases/{address}/intervals",
    "/v1/payouts",
    "/v1/slashes",
    "/v1/stats",
    "/v1/stats/daily",
    "/v1/console-config",
    "/health",
    "/ready",
];

pub fn document() -> Value {
    let mut document = IndexerApi::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut document = serde_json::to_value(document).expect("the document serialises");
    constrain_names(&mut document);
    document
}

/// The names the worker filter resolves against the catalog, any case, as patterns written from the catalog
/// itself: a request the document allows is one the API can resolve.
fn constrain_names(document: &mut Value) {
    let any_case = |name: &str| -> String {
        name.chars()
            .map(|c| match c {
                c if c.is_ascii_alphabetic() => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
                '-' => "-".to_string(),
                c => c.to_string(),
            })
            .collect()
    };
    let models: Vec<String> = timelock_sdk::catalog::GPU_MODELS.iter().map(|(_, name)| any_case(name)).collect();
    let region_len = timelock::constants::REGION_LEN;
    let patterns =
        [("gpu_model", format!("^({})$", models.join("|"))), ("region", format!("^[A-Za-z0-9-]{{1,{region_len}}}$"))];
    let parameters = document["paths"]["/v1/workers"]["get"]["parameters"].as_array_mut().expect("parameters");
    for parameter in parameters {
        if let Some((_, pattern)) = patterns.iter().find(|(name, _)| parameter["name"] == *name) {
            parameter["schema"]["pattern"] = Value::String(pattern.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_every_reference_resolves() {
        let document = document();
        for path in PATHS {
            assert!(document["paths"][path]["get"].is_object(), "{path} documented");
        }
        assert_eq!(timelock_service_kit::unresolved_refs(&document), Vec::<String>::new());
        let worker = &document["components"]["schemas"]["WorkerView"]["properties"];
        assert!(worker["bookable"].is_object() && worker["price_per_gpu_hour"].is_object());
        let params = document["paths"]["/v1/workers"]["get"]["parameters"].as_array().unwrap();
        let names: Vec<_> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"min_connectivity_tier") && names.contains(&"cursor"), "{names:?}");
    }
}
