//! Evidence retention: heartbeats in daily partitions, each dropped whole once every lease heard in it has been
//! closed on chain for the keep; what is still needed, verdicts and replay protection survive.

use timelock_oracle::retention::{partitions, DAYS_AHEAD, DAY_SECS};
use timelock_protocol::policy::Reason;

use super::*;

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn partitions_older_than_the_retention_are_dropped_and_nothing_needed_is_lost(pool: PgPool) {
    let world = OracleWorld::new(2, 8, 2, 0);
    let store = Store::new(pool.clone());
    let (keep, now) = (7 * DAY_SECS, unix_now());
    let (ended, running) = (world.workers[0].lease.to_bytes(), world.workers[1].lease.to_bytes());
    let beat = |worker: usize, sequence: u64, at: i64| {
        StoredHeartbeat::from_verified(&world.heartbeat(worker, sequence, at, world.honest_gpus(worker)), at)
    };
    // Lease 0 ran 20 and 19 days ago and closed 18 days ago; lease 1 ran 19 days ago and still runs; a lease no
    // round ever saw was heard 21 days ago. Nothing had partitions for those days yet: the heartbeats wait in the
    // default partition.
    let mut unseen = beat(1, 3, now - 21 * DAY_SECS);
    unseen.lease = [9; 32];
    let stored = store
        .insert_heartbeats(&[
            beat(0, 1, now - 20 * DAY_SECS),
            beat(0, 2, now - 19 * DAY_SECS),
            beat(1, 1, now - 19 * DAY_SECS),
            beat(1, 2, now),
            unseen,
        ])
        .await
        .unwrap();
    assert_eq!(stored, vec![true; 5]);
    store.record_open_leases(&[ended, running], now - 19 * DAY_SECS).await.unwrap();
    store.record_open_leases(&[running], now - 18 * DAY_SECS).await.unwrap();
    store.record_open_leases(&[running], now).await.unwrap();
    let oracle = world.oracle_identity(0);
    store.record_intervals(&oracle, &ended, now - 20 * DAY_SECS, 30, &[Reason::Proven, Reason::Missed]).await.unwrap();

    let report = store.apply_retention(now, keep).await.unwrap();
    let day = |at: i64| at.div_euclid(DAY_SECS) * DAY_SECS;
    assert_eq!(report.created.len(), 4 + DAYS_AHEAD as usize, "the four days heard and the days ahead: {report:?}");
    assert_eq!(count(&pool, "SELECT count(*) FROM oracle.heartbeats_default").await, 0, "all moved to their day");
    let left: Vec<i64> = partitions(&pool).await.unwrap().iter().map(|p| p.from).collect();
    assert_eq!(report.dropped.len(), 1, "{report:?}");
    assert!(!left.contains(&day(now - 20 * DAY_SECS)), "only the ended lease was heard that day: dropped");
    assert!(left.contains(&day(now - 19 * DAY_SECS)), "the running lease still needs that day");
    assert!(left.contains(&day(now - 21 * DAY_SECS)), "a lease never seen closed is kept");
    assert!(left.contains(&day(now)));

    let lease_beats = |lease: [u8; 32]| {
        let store = store.clone();
        async move { store.lease_heartbeats(&lease, 0, i64::MAX).await.unwrap().len() }
    };
    assert_eq!(lease_beats(running).await, 2, "everything of an open lease is kept");
    assert_eq!(lease_beats(ended).await, 1, "the ended lease's day shared with a running one stays");
    assert_eq!(store.intervals(&oracle, &ended, 0, 10).await.unwrap().len(), 2, "verdicts outlive heartbeats");
    let replay = store.insert_heartbeats(&[beat(0, 1, now)]).await.unwrap();
    assert_eq!(replay, vec![false], "a dropped heartbeat's sequence stays refused");

    let again = store.apply_retention(now, keep).await.unwrap();
    assert_eq!(again, Default::default(), "a second pass changes nothing");

    // Lease 1 closes tomorrow; once the keep has passed, nothing of either lease is left, and the activity of
    // leases with nothing left goes too. The lease never seen stays.
    store.record_open_leases(&[], now + DAY_SECS).await.unwrap();
    let later = now + keep + 3 * DAY_SECS + DAYS_AHEAD * DAY_SECS;
    store.apply_retention(later, keep).await.unwrap();
    assert_eq!(count(&pool, "SELECT count(*) FROM oracle.heartbeats").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM oracle.lease_activity").await, 0);
    let kept: Vec<i64> = partitions(&pool).await.unwrap().iter().filter(|p| p.to <= later).map(|p| p.from).collect();
    assert_eq!(kept, vec![day(now - 21 * DAY_SECS)], "besides the days ahead, only the unseen lease's day");
    assert_eq!(store.intervals(&oracle, &ended, 0, 10).await.unwrap().len(), 2);
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_running_oracle_stores_todays_heartbeats_in_todays_partition(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let (status, body) = post_heartbeat(&oracle, &world.heartbeat(0, 1, unix_now(), world.honest_gpus(0))).await;
    assert_eq!(status, 202, "{body}");
    let table: String =
        sqlx::query_scalar("SELECT tableoid::regclass::text FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    let today: String =
        sqlx::query_scalar("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')").fetch_one(&pool).await.unwrap();
    assert_eq!(table, format!("oracle.heartbeats_{today}"));
    oracle.stop().await;
}
