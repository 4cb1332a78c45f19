//! The indexer's schema: its own migrations only, an in-place upgrade from the schema both services once shared,
//! u64 values exact over their whole range, and enum values that are checked rather than defaulted.

use anchor_lang::AccountSerialize;
use sqlx::migrate::Migrator;
use timelock_sdk::view::ClusterView;

use super::*;

async fn schemas(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name IN ('oracle', 'indexer') \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn each_service_creates_only_its_own_schema(pool: PgPool) {
    MIGRATIONS.run(&pool).await.unwrap();
    assert_eq!(schemas(&pool).await, vec!["indexer"], "the indexer's database holds no oracle tables");
    timelock_oracle::store::MIGRATOR.run(&pool).await.unwrap();
    assert_eq!(schemas(&pool).await, vec!["indexer", "oracle"], "and the two can still share one database");
    MIGRATIONS.run(&pool).await.unwrap();
}

#[sqlx::test(migrations = false)]
async fn a_database_of_the_shared_schema_upgrades_in_place(pool: PgPool) {
    // Before the split, one migrator ran 0001 (oracle) to 0004 (indexer) over every database.
    let shared: Vec<_> =
        timelock_oracle::store::MIGRATOR.iter().chain(MIGRATIONS.iter()).filter(|m| m.version <= 4).cloned().collect();
    assert_eq!(shared.iter().map(|m| m.version).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let before = Migrator { migrations: shared.into(), ..Migrator::DEFAULT };
    before.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO indexer.workers (address, supplier, worker_index, gpu_model, gpu_count, vram_gib, cpu_cores, \
         ram_gib, region, connectivity_tier, compliance, green_energy, price_per_gpu_hour, device_key, available, \
         bonded_stake, jailed_until, fault_count, registered_at, slot) VALUES ('w', 's', 1, 'H100-SXM', 8, 80, 96, \
         1024, 'US-EAST', 4, 0, true, 2000000, 'd', true, 5, 0, 0, 1, 7)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO indexer.clusters VALUES ('c', 'r', 9, 'm', 'baremetal', 'open', 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, false, 7)")
        .execute(&pool)
        .await
        .unwrap();

    // Both services start on it: each applies its own new versions and skips the other's.
    MIGRATIONS.run(&pool).await.unwrap();
    timelock_oracle::store::MIGRATOR.run(&pool).await.unwrap();
    let (price, bookable): (String, bool) =
        sqlx::query_as("SELECT price_per_gpu_hour::text, bookable FROM indexer.workers WHERE address = 'w'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((price.as_str(), bookable), ("2000000", true), "rows keep their values; derived columns are filled");
    let purpose: String =
        sqlx::query_scalar("SELECT purpose FROM indexer.clusters WHERE address = 'c'").fetch_one(&pool).await.unwrap();
    assert_eq!(purpose, "bare_metal", "the old spelling is mapped to the view's");
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn amounts_above_i64_max_and_enum_values_round_trip_exactly(pool: PgPool) {
    let mut f = TestFixture::deployed();
    f.init_config().unwrap();
    let renter = f.renter(10 * ONE_USDC);
    // A renter picks its cluster ids: the largest one is as valid as any.
    f.create_cluster(&renter, u64::MAX, 1).unwrap();
    let address = pda::cluster(&renter.authority.pubkey(), u64::MAX).0;
    let mut cluster: Cluster = f.account(&address);
    assert_eq!(cluster.cluster_id, u64::MAX);
    // Totals no lifecycle reaches, but that the type allows: they must not be clamped.
    cluster.deposited = u64::MAX - 1;
    cluster.refunded = i64::MAX as u64 + 1;
    cluster.purpose = timelock::state::ClusterPurpose::BareMetal;
    let mut data = Vec::new();
    cluster.try_serialize(&mut data).unwrap();
    let batch = Batch { accounts: vec![AccountRecord { address, slot: 9, data: Some(data) }], ..Batch::default() };
    Store::new(pool.clone()).apply("synthetic", &batch).await.unwrap();

    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let body: Value = reqwest::get(format!("{base}/v1/clusters/{address}")).await.unwrap().json().await.unwrap();
    let served: ClusterView = serde_json::from_value(body).unwrap();
    assert_eq!(served, ClusterView::new(&address, &cluster), "every u64 exact, the purpose by name");

    // An enum value the program does not have is refused by the table, and, should one get there anyway, is
    // an error when read: never a silently defaulted field.
    let refused = sqlx::query("UPDATE indexer.clusters SET purpose = 'warp'").execute(&pool).await;
    assert!(refused.unwrap_err().to_string().contains("clusters_purpose_check"));
    sqlx::query("ALTER TABLE indexer.clusters DROP CONSTRAINT clusters_purpose_check").execute(&pool).await.unwrap();
    sqlx::query("UPDATE indexer.clusters SET purpose = 'warp'").execute(&pool).await.unwrap();
    let response = reqwest::get(format!("{base}/v1/clusters/{address}")).await.unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal", "{body}");
    indexer.stop().await;
}

/// Both folders number their migrations from one sequence: a version in both would fail whichever service
/// migrates a shared database second.
#[test]
fn the_two_schemas_never_share_a_version() {
    let oracle: std::collections::BTreeSet<i64> = timelock_oracle::store::MIGRATOR.iter().map(|m| m.version).collect();
    let indexer: std::collections::BTreeSet<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert!(oracle.is_disjoint(&indexer), "oracle {oracle:?} and indexer {indexer:?} share a version");
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_account_opened_and_closed_in_one_batch_keeps_its_record(pool: PgPool) {
    let mut f = TestFixture::deployed();
    f.init_config().unwrap();
    let renter = f.renter(10 * ONE_USDC);
    f.create_cluster(&renter, 7, 1).unwrap();
    let address = pda::cluster(&renter.key(), 7).0;
    let cluster: Cluster = f.account(&address);
    let mut data = Vec::new();
    cluster.try_serialize(&mut data).unwrap();
    let accounts =
        vec![AccountRecord { address, slot: 5, data: Some(data) }, AccountRecord { address, slot: 6, data: None }];
    Store::new(pool.clone()).apply("synthetic", &Batch { accounts, ..Batch::default() }).await.unwrap();

    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let get = |path: String| async move {
        let response = reqwest::get(path).await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    let (status, _) = get(format!("{base}/v1/clusters/{address}")).await;
    assert_eq!(status, 404, "closed on chain: unknown here too, as to the CLI");
    let (_, closed) = get(format!("{base}/v1/clusters?open=false")).await;
    assert_eq!(closed["items"][0], json(ClusterView::new(&address, &cluster)), "its last state is its record");
    let (_, open) = get(format!("{base}/v1/clusters?open=true")).await;
    assert_eq!(open["items"].as_array().unwrap().len(), 0);
    indexer.stop().await;
}
