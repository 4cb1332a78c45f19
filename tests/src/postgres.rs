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
