//! The OpenAPI 3.1 document served at `/openapi.json`, written alongside the handlers in `api.rs` (a test
//! checks that every route is documented and every documented route answers).

use serde_json::{json, Value};

fn param(name: &str, kind: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": kind } })
}

fn path_param(name: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": "base58 account address",
            "schema": { "type": "string" } })
}

fn paging() -> Vec<Value> {
    vec![
        param("limit", "integer", "page size, 1-500 (default 50)"),
        param("cursor", "string", "next_cursor of the previous page"),
    ]
}

fn get(summary: &str, parameters: Vec<Value>, list: bool) -> Value {
    let schema = if list {
        json!({ "type": "object", "properties": {
            "items": { "type": "array", "items": { "type": "object" } },
            "next_cursor": { "type": ["string", "null"] } } })
    } else {
        json!({ "type": "object" })
    };
    json!({ "get": {
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": { "description": "OK", "content": { "application/json": { "schema": schema } } },
            "400": { "$ref": "#/components/responses/Error" },
            "404": { "$ref": "#/components/responses/Error" }
        }
    } })
}

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
    "/v1/payouts",
    "/v1/slashes",
    "/v1/stats",
    "/health",
];

pub fn document() -> Value {
    let mut workers = vec![
        param("gpu_model", "string", "catalog model, e.g. H100-SXM"),
        param("min_gpus", "integer", "at least this many GPUs"),
        param("min_vram_gib", "integer", "at least this much memory per GPU"),
        param("region", "string", "region code, e.g. US-EAST"),
        param("min_connectivity_tier", "integer", "lowest connectivity tier accepted"),
        param("compliance", "integer", "compliance bits all required: 1 SOC 2, 2 HIPAA, 4 end-to-end encryption"),
        param("green", "boolean", "green energy only (true) or excluded (false)"),
        param("available", "boolean", "free to book now: available, not leased, not jailed"),
        param("max_price", "integer", "highest price per GPU-hour, in payment-token units"),
        param("supplier", "string", "supplier account"),
        param("sort", "string", "price (default), -price, -gpus, -registered"),
    ];
    workers.extend(paging());
    let by = |names: &[&str]| -> Vec<Value> {
        let mut p: Vec<Value> = names.iter().map(|n| param(n, "string", "base58 account address")).collect();
        p.extend(paging());
        p
    };
    let mut money = by(&["supplier"]);
    money.push(param("from", "integer", "Unix seconds, inclusive"));
    money.push(param("to", "integer", "Unix seconds, exclusive"));
    json!({
        "openapi": "3.1.0",
        "info": { "title": "timelock indexer API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "The timelock program's accounts and events, mirrored from chain. An account's \
                                  body is its view (timelock_sdk::view), the JSON `timelock … -o json` prints. \
                                  Amounts are token base units (exact u64); times are Unix seconds." },
        "paths": {
            "/v1/workers": get("Workers, filtered and sorted", workers, true),
            "/v1/workers/{address}": get("One worker", vec![path_param("address")], false),
            "/v1/suppliers": get("Suppliers by stake", paging(), true),
            "/v1/suppliers/{address}": get("One supplier", vec![path_param("address")], false),
            "/v1/suppliers/{address}/totals": get("What a supplier was paid and slashed over its history", vec![path_param("address")], false),
            "/v1/clusters": get("Clusters, newest first", by(&["renter"]), true),
            "/v1/clusters/{address}": get("One cluster (its leases: /v1/leases?cluster=)", vec![path_param("address")], false),
            "/v1/leases": get("Leases, newest first", by(&["cluster", "worker", "supplier"]), true),
            "/v1/leases/{address}": get("One lease", vec![path_param("address")], false),
            "/v1/leases/{address}/attestations": get("Every oracle's attestation of a lease, oldest first", vec![path_param("address")], true),
            "/v1/payouts": get("Settlements and claims, newest first", money.clone(), true),
            "/v1/slashes": get("Slashes, newest first", money, true),
            "/v1/stats": get("Network totals: GPUs by model and region, utilisation, median prices, 24 h volume", vec![], false),
            "/health": get("Database reachable", vec![], false)
        },
        "components": { "responses": { "Error": {
            "description": "A JSON error",
            "content": { "application/json": { "schema": { "type": "object", "properties": {
                "error": { "type": "object", "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" } } } } } } }
        } } }
    })
}
