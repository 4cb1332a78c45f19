//! The HTTP API: what is bookable agrees with the chain and the CLI, and the filters, pages and errors.

use super::*;

async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The keys of a page's items: account addresses, or event ids for payouts and slashes.
fn addresses(body: &Value) -> Vec<String> {
    let items = body["items"].as_array().unwrap();
    items.iter().map(|w| w["address"].as_str().or(w["id"].as_str()).unwrap().to_string()).collect()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn bookable_means_the_same_on_chain_in_the_cli_and_in_the_api(pool: PgPool) {
    // Four workers: free, leased, unavailable, and jailed with its cool-down passed but not yet unjailed (the
    // case the API once listed as available while booking it failed with `WorkerJailed`).
    // The chain's clock starts three days before the wall clock, so that the cool-down has passed by the
    // wall clock too (what a time-based predicate in the API would compare with).
    let mut f = TestFixture::deployed();
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    f.set_time(wall - 3 * 86_400);
    f.journal = Some(Vec::new());
    f.init_config().unwrap();
    let (supplier, workers) = f.supplier_with_workers(4);
    let renter = f.renter(10_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).unwrap();
    f.add_workers(&renter, 1, &workers[1..2]).unwrap();
    f.add_workers(&renter, 1, &workers[3..4]).unwrap();
    let index = |f: &TestFixture, w: &ix::WorkerRef| f.account::<Worker>(&w.worker).worker_index;
    let unavailable = ix::worker_set_available(supplier.key(), index(&f, &workers[2]), false);
    f.exec(unavailable, &[&supplier.authority]);
    f.warp(HOUR);
    let window = f.now();
    f.attest_quorum(2, window, &[(f.lease_address(&renter, 1, &workers[3]), 3_600, 3)]);
    f.warp(f.config().params.dispute_window_secs + f.config().params.epoch_secs);
    f.settle(&renter, 1, &workers[3]).unwrap();
    f.warp(f.config().params.jail_cooldown_secs + 1);
    let jailed: Worker = f.account(&workers[3].worker);
    assert!(jailed.is_jailed() && f.now() > jailed.jailed_until, "cool-down passed, not unjailed");
    assert!(wall > jailed.jailed_until, "and by the wall clock");

    let recorded = f.journal.take().unwrap();
    Store::new(pool.clone()).apply("replay", &batch_of(&recorded)).await.unwrap();
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let (_, listed) = get(&base, "/v1/workers?available=true").await;
    let mut api: Vec<String> = addresses(&listed);
    api.sort();

    let filter = WorkerFilter { available: Some(true), ..Default::default() };
    let checked = filter.check().unwrap();
    let mut chain = Vec::new();
    for w in &workers {
        let worker: Worker = f.account(&w.worker);
        assert_eq!(filter.matches(&checked, &worker), worker.is_bookable(), "the CLI's --available");
        if worker.is_bookable() {
            chain.push(w.worker.to_string());
        }
    }
    assert_eq!(chain, vec![workers[0].worker.to_string()]);
    assert_eq!(api, chain, "the API's available=true");

    // One shape everywhere: for each kind of account, the API's body is what `timelock … show -o json` prints.
    let renter_key = renter.key();
    let viewer = f.actor();
    for w in &workers {
        let (status, body) = get(&base, &format!("/v1/workers/{}", w.worker)).await;
        assert_eq!(status, 200);
        assert_eq!(body, f.timelock(&viewer, &format!("worker show {}", w.worker)).unwrap(), "worker");
    }
    let (_, body) = get(&base, &format!("/v1/suppliers/{}", supplier.supplier())).await;
    assert_eq!(body, f.timelock(&viewer, &format!("supplier show {}", supplier.key())).unwrap());
    let (_, body) = get(&base, &format!("/v1/clusters/{}", pda::cluster(&renter_key, 1).0)).await;
    assert_eq!(body, f.timelock(&viewer, &format!("cluster show --id 1 --renter {renter_key}")).unwrap());
    let (_, body) = get(&base, &format!("/v1/leases/{}", f.lease_address(&renter, 1, &workers[1]))).await;
    let shown = format!("lease show --id 1 --worker {} --renter {renter_key}", workers[1].worker);
    assert_eq!(body, f.timelock(&viewer, &shown).unwrap(), "lease");
    let (_, listed) = get(&base, "/v1/workers?limit=500").await;
    let cli_listed = f.timelock(&viewer, "worker list --limit 500").unwrap();
    let by_address = |items: &Value| {
        let mut items = items.as_array().unwrap().clone();
        items.sort_by_key(|w| w["address"].as_str().unwrap().to_string());
        items
    };
    assert_eq!(by_address(&listed["items"]), by_address(&cli_listed), "worker list");

    // The booking agrees: only the bookable worker can be booked.
    f.create_cluster(&renter, 2, 1).unwrap();
    assert_error(f.add_workers(&renter, 2, &workers[3..4]), TimelockError::WorkerJailed);
    f.add_workers(&renter, 2, &workers[..1]).unwrap();
    indexer.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_api_filters_pages_and_refuses_bad_requests(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    Store::new(pool.clone()).apply("replay", &batch_of(&recorded)).await.unwrap();
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let workers: BTreeMap<String, Value> = {
        let (_, all) = get(&base, "/v1/workers?limit=500").await;
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["address"].as_str().unwrap().to_string(), w.clone()))
            .collect()
    };
    assert_eq!(workers.len(), 5);
    let count = |path: &str| {
        let (path, base) = (path.to_string(), base.clone());
        async move {
            let (status, body) = get(&base, &path).await;
            assert_eq!(status, 200, "{path}: {body}");
            addresses(&body).len()
        }
    };

    // Every filter narrows as the listings say.
    assert_eq!(count("/v1/workers?gpu_model=H100-SXM").await, 2);
    assert_eq!(count("/v1/workers?gpu_model=h100-sxm&region=eu-west").await, 1);
    assert_eq!(count("/v1/workers?min_gpus=4").await, 3);
    assert_eq!(count("/v1/workers?min_vram_gib=80").await, 5);
    assert_eq!(count("/v1/workers?region=US-WEST").await, 1);
    assert_eq!(count("/v1/workers?min_connectivity_tier=3").await, 2);
    assert_eq!(count("/v1/workers?compliance=5").await, 3);
    assert_eq!(count("/v1/workers?green=true").await, 3);
    assert_eq!(count("/v1/workers?green=false").await, 2);
    assert_eq!(count("/v1/workers?max_price=1000000").await, 2);
    assert_eq!(count(&format!("/v1/workers?supplier={}", m.supplier_b)).await, 2);
    // The two booked workers stay leased while the cluster runs.
    assert_eq!(count("/v1/workers?available=false").await, 2);
    assert_eq!(count("/v1/workers?available=true").await, 3);

    // Sorting, and pages that together are the whole list in order.
    let (_, by_price) = get(&base, "/v1/workers?sort=-price").await;
    let prices: Vec<i64> =
        by_price["items"].as_array().unwrap().iter().map(|w| w["price_per_gpu_hour"].as_i64().unwrap()).collect();
    assert_eq!(prices, vec![2_500_000, 2_000_000, 1_200_000, 900_000, 400_000]);
    let (_, by_gpus) = get(&base, "/v1/workers?sort=-gpus&limit=1").await;
    assert_eq!(by_gpus["items"][0]["gpu_count"], 8);
    let mut paged = Vec::new();
    let mut path = "/v1/workers?limit=2".to_string();
    loop {
        let (status, body) = get(&base, &path).await;
        assert_eq!(status, 200);
        paged.extend(addresses(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/workers?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let (_, all) = get(&base, "/v1/workers?limit=500").await;
    assert_eq!(paged, addresses(&all));

    // One of each, and the lists by owner.
    let (status, worker) = get(&base, &format!("/v1/workers/{}", m.h100_a.worker)).await;
    assert_eq!((status, worker["gpu_model"].as_str()), (200, Some("H100-SXM")));
    let (_, totals) = get(&base, &format!("/v1/suppliers/{}/totals", m.supplier_b)).await;
    assert_eq!(totals["slashes_total"].as_u64(), Some(m.f.account::<Lease>(&m.cheater_lease).slashed));
    assert!(totals["earned_total"].as_u64().unwrap() > 0);
    let (_, lease) = get(&base, &format!("/v1/leases/{}", m.cheater_lease)).await;
    let (_, attestations) = get(&base, &format!("/v1/leases/{}/attestations", m.cheater_lease)).await;
    assert_eq!(attestations["items"].as_array().unwrap().len(), 2);
    let (_, leases) = get(&base, &format!("/v1/leases?worker={}", m.h100_b.worker)).await;
    assert_eq!(addresses(&leases), vec![m.cheater_lease.to_string()]);
    let cluster = lease["cluster"].as_str().unwrap().to_string();
    let (_, cluster_body) = get(&base, &format!("/v1/clusters/{cluster}")).await;
    assert_eq!(count(&format!("/v1/leases?cluster={cluster}")).await, 2);
    let renter = cluster_body["renter"].as_str().unwrap();
    assert_eq!(count(&format!("/v1/clusters?renter={renter}")).await, 1);
    assert_eq!(count("/v1/suppliers").await, 2);
    assert_eq!(count(&format!("/v1/payouts?supplier={}", m.supplier_a)).await, 2, "settlement and claim");
    let now = m.f.now();
    assert_eq!(count(&format!("/v1/payouts?from={}", now + 1)).await, 0);
    assert_eq!(count(&format!("/v1/payouts?from={}&to={}", now - 10, now + 1)).await, 3);
    assert_eq!(count("/v1/payouts?from=10&to=5").await, 0, "an empty range has nothing in it");
    // Base58 of another length than 32 bytes is no account's address: nothing, not a refusal.
    let short = "1".repeat(33);
    assert_eq!(count(&format!("/v1/workers?supplier={short}")).await, 0);
    let (status, _) = get(&base, &format!("/v1/workers/{short}")).await;
    assert_eq!(status, 404);
    assert_eq!(count(&format!("/v1/slashes?supplier={}", m.supplier_b)).await, 1);
    assert_eq!(count(&format!("/v1/slashes?supplier={}", m.supplier_a)).await, 0);
    let (_, stats) = get(&base, "/v1/stats").await;
    assert_eq!((stats["gpus_total"].as_i64(), stats["gpus_rented"].as_i64()), (Some(23), Some(16)));
    let (status, openapi) = get(&base, "/openapi.json").await;
    assert_eq!(status, 200);
    for path in timelock_indexer::openapi::PATHS {
        assert!(openapi["paths"][path].is_object(), "{path} documented");
    }

    // Bad requests: JSON errors, 400 for bad filters, 404 for unknown ids.
    let refused = |path: &'static str, status: u16, code: &'static str| {
        let base = base.clone();
        async move {
            let (got, body) = get(&base, path).await;
            assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{path}: {body}");
        }
    };
    refused("/v1/workers?limit=0", 400, "bad_filter").await;
    refused("/v1/workers?limit=501", 400, "bad_filter").await;
    refused("/v1/workers?gpu_model=TPU", 400, "bad_filter").await;
    refused("/v1/workers?sort=vram", 400, "bad_filter").await;
    refused("/v1/workers?min_gpus=many", 400, "bad_filter").await;
    refused("/v1/workers?colour=green", 400, "bad_filter").await;
    refused("/v1/workers?cursor=%21%21", 422, "bad_cursor").await;
    refused("/v1/workers?supplier=nope", 400, "bad_address").await;
    refused("/v1/workers/nope", 400, "bad_address").await;
    refused("/v1/workers/11111111111111111111111111111111", 404, "unknown_worker").await;
    refused("/v1/leases/11111111111111111111111111111111", 404, "unknown_lease").await;
    refused("/v1/clusters/11111111111111111111111111111111", 404, "unknown_cluster").await;
    refused("/v1/suppliers/11111111111111111111111111111111", 404, "unknown_supplier").await;
    refused("/v2/anything", 404, "no_such_route").await;
    indexer.stop().await;
}
