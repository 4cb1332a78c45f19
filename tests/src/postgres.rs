//! Databases for runs that are not `#[sqlx::test]`s (benchmarks, the demo, the end-to-end test).

/// Database `name` on the server of `base` (a `postgres://…/db` URL), dropped and made afresh; its URL.
pub async fn fresh_database(base: &str, name: &str) -> String {
    use sqlx::{ConnectOptions, Connection};
    let mut admin =
        base.parse::<sqlx::postgres::PgConnectOptions>().expect("DATABASE_URL").connect().await.expect("Postgres");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    let (prefix, _) = base.rsplit_once('/').expect("DATABASE_URL ends with /database");
    format!("{prefix}/{name}")
}

/// Every row of the indexer's tables as JSON, in a stable order, without the rows' own `updated_at`: two
/// mirrors of one chain compare equal exactly when they hold the same data.
pub async fn indexer_fingerprint(pool: &sqlx::PgPool) -> String {
    fingerprint(pool, false).await
}

/// [`indexer_fingerprint`] without the slot each account row was read at, either: what two mirrors that read
/// the same states at different moments (one restarted many times, say) hold alike.
pub async fn indexer_state_fingerprint(pool: &sqlx::PgPool) -> String {
    fingerprint(pool, true).await
}

async fn fingerprint(pool: &sqlx::PgPool, without_read_slots: bool) -> String {
    const ACCOUNTS: [&str; 5] = ["config", "suppliers", "workers", "clusters", "leases"];
    const EVENTS: [&str; 6] = ["events", "payouts", "slashes", "attestations", "disputes", "checkpoints"];
    let mut all = String::new();
    for table in ACCOUNTS.into_iter().chain(EVENTS) {
        let read_slot = if without_read_slots && ACCOUNTS.contains(&table) { " - 'slot'" } else { "" };
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t) - 'updated_at'{read_slot} FROM indexer.{table} t ORDER BY to_jsonb(t)::text"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        all.push_str(table);
        all.push_str(&serde_json::to_string(&rows).unwrap());
        all.push('\n');
    }
    all
}
