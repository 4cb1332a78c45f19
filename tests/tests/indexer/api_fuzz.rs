//! The indexer's API fuzzed from its own OpenAPI document by Schemathesis, over a mirrored market.

use super::*;

#[sqlx::test(migrator = "MIGRATIONS")]
async fn schemathesis_finds_nothing_in_the_indexer_api(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    let store = Store::new(pool.clone());
    store.apply("replay", &batch_of(&recorded)).await.unwrap();
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    timelock_tests::api_fuzz::schemathesis(&format!("http://{}", indexer.addr), 40).await;
    indexer.stop().await;
}
