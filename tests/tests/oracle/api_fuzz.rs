//! The oracle's API fuzzed from its own OpenAPI document by Schemathesis, with a leased worker behind it.

use super::*;

#[sqlx::test(migrator = "MIGRATIONS")]
async fn schemathesis_finds_nothing_in_the_oracle_api(pool: PgPool) {
    let world = OracleWorld::new(2, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    // A stored heartbeat and an open challenge, so that reads find something.
    assert_eq!(post_heartbeat(&oracle, &world.heartbeat(0, 1, unix_now(), world.honest_gpus(0))).await.0, 202);
    timelock_tests::api_fuzz::schemathesis(&format!("http://{}", oracle.addr), 60).await;
    oracle.stop().await;
}
