//! An oracle service over an [`OracleWorld`] in this process, for tests that must kill the service outright
//! (`kill -9`): prints `{"addr": ..., "workers": [{"worker": ..., "lease": ...}]}` on one line, then serves until
//! killed. Worker `i` signs with `oracle_world::device_key(i)`. Needs `DATABASE_URL`.

use sqlx::postgres::PgPoolOptions;
use timelock_tests::oracle_world::OracleWorld;

#[tokio::main]
async fn main() {
    let workers: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(4);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let pool = PgPoolOptions::new().max_connections(8).connect(&url).await.expect("database");
    let world = OracleWorld::new(workers, 1, 2, 0);
    let oracle = world.start_oracle(pool, 0, OracleWorld::oracle_config()).await;
    let listed: Vec<_> = world
        .workers
        .iter()
        .map(|w| serde_json::json!({ "worker": w.worker.to_string(), "lease": w.lease.to_string() }))
        .collect();
    println!("{}", serde_json::json!({ "addr": oracle.addr.to_string(), "workers": listed }));
    timelock_service_kit::shutdown_signal().await;
    oracle.stop().await;
}
