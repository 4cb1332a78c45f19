//! Attestation rounds that put the quorum's verdict on chain, also after a dispute resolution.

use super::*;

/// The renter disputes worker 0's lease with the configured bond.
fn renter_disputes_the_first_lease(world: &OracleWorld) {
    use timelock_tests::Signer;
    let mut f = world.chain.lock();
    let payment = f.payment(&world.renter, timelock_tests::oracle_world::CLUSTER_ID);
    let (w, renter) = (&world.workers[0], world.renter.authority.insecure_clone());
    f.exec(ix::lease_dispute(renter.pubkey(), world.renter.payment_tokens, payment, w.worker, w.supplier), &[&renter]);
}

/// Heartbeats every 30 s from `from` for `intervals` intervals, 5 s into each.
fn beats(world: &OracleWorld, worker: usize, from: i64, intervals: i64, foreign: bool) -> Vec<StoredHeartbeat> {
    (0..intervals)
        .map(|i| {
            let at = from + 30 * i + 5;
            let gpus = if foreign {
                world.gpus(worker, &[Some(timelock_tests::oracle_world::JOB_IMAGE), Some("crypto-miner")])
            } else {
                world.honest_gpus(worker)
            };
            StoredHeartbeat::from_verified(&world.heartbeat(worker, at as u64, at, gpus), at)
        })
        .collect()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn attestation_rounds_put_the_quorums_verdict_on_chain_once(pool: PgPool) {
    // Leases that started 15 minutes ago: an honest worker, a cheater from minute 5, one gone after 150 s.
    let world = OracleWorld::new(3, 8, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    let mut rows = beats(&world, 0, start, 30, false);
    rows.extend(beats(&world, 1, start, 10, false));
    rows.extend(beats(&world, 1, start + 300, 20, true));
    rows.extend(beats(&world, 2, start, 5, false));
    store.insert_heartbeats(&rows).await.unwrap();

    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let first = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let second = world.start_oracle(pool.clone(), 1, config.clone()).await;
    let mut round = first.attestor.round().await.unwrap();
    // Judged up to the chain's clock less the skew allowance: 840 s, 28 intervals.
    let window = world.chain.lock().now() - config.max_clock_skew_secs - start;
    let expected_honest = (window / 30 * 30) as u32;
    round.sent.sort_by_key(|(lease, ..)| world.workers.iter().position(|w| w.lease == *lease));
    assert_eq!(
        round.sent,
        vec![
            (world.workers[0].lease, expected_honest, 0),
            (world.workers[1].lease, 300, 1),
            (world.workers[2].lease, 150, 1),
        ]
    );
    assert_eq!((round.transactions, round.failed_transactions), (1, 0));
    assert_eq!(world.lease(0).proven_secs, 0, "one oracle is not a quorum");

    second.attestor.round().await.unwrap();
    let on_chain: Vec<(u64, u64)> = (0..3).map(|w| (world.lease(w).proven_secs, world.lease(w).faults)).collect();
    assert_eq!(on_chain, vec![(u64::from(expected_honest), 0), (300, 1), (150, 1)]);

    // Nothing new: nothing sent, also after a restart (the chain holds each oracle's latest vote).
    assert!(first.attestor.round().await.unwrap().sent.is_empty());
    first.stop().await;
    let restarted = world.start_oracle(pool.clone(), 0, config).await;
    assert!(restarted.attestor.round().await.unwrap().sent.is_empty());

    // Two more minutes of honest work: only the honest lease is news.
    world.chain.lock().warp(120);
    store.insert_heartbeats(&beats(&world, 0, start + 900, 4, false)).await.unwrap();
    let round = restarted.attestor.round().await.unwrap();
    assert_eq!(round.sent.len(), 1);
    assert_eq!(round.sent[0].0, world.workers[0].lease);
    assert!(round.sent[0].1 > expected_honest);
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.reports WHERE signature IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(reports, 7);
    restarted.stop().await;
    second.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn after_a_dispute_resolution_the_oracles_report_what_they_saw_since_it(pool: PgPool) {
    use timelock_tests::Signer;
    // An honest lease, 15 minutes in, attested by the quorum.
    let world = OracleWorld::new(1, 8, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    store.insert_heartbeats(&beats(&world, 0, start, 30, false)).await.unwrap();
    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let first = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let second = world.start_oracle(pool.clone(), 1, config.clone()).await;
    first.attestor.round().await.unwrap();
    second.attestor.round().await.unwrap();
    let attested = world.lease(0);
    assert!(attested.proven_secs > 600);

    // The renter disputes and the admin decides 300 s as of the oracles' window.
    let as_of = attested.votes[0].window_end;
    renter_disputes_the_first_lease(&world);
    {
        let mut f = world.chain.lock();
        let payment = f.payment(&world.renter, timelock_tests::oracle_world::CLUSTER_ID);
        let w = &world.workers[0];
        let admin = f.admin.insecure_clone();
        let treasury = f.treasury_payment_tokens;
        let tokens = world.renter.payment_tokens;
        let resolve =
            ix::lease_dispute_resolve(admin.pubkey(), payment, w.worker, tokens, treasury, 300, 0, as_of, false);
        f.exec(resolve, &[&admin]);
    }
    assert_eq!((world.lease(0).proven_secs, world.lease(0).resolved_at), (300, as_of));

    // Two more minutes of honest work: each oracle reports only the time since the decision, naming it, and the
    // chain adds the quorum's count to the 300 s decided.
    world.chain.lock().warp(120);
    store.insert_heartbeats(&beats(&world, 0, start + 900, 4, false)).await.unwrap();
    let sent = first.attestor.round().await.unwrap().sent;
    let since_decision = sent[0].1;
    assert!(since_decision > 0 && i64::from(since_decision) <= world.chain.lock().now() - as_of, "{sent:?}");
    second.attestor.round().await.unwrap();
    assert_eq!(world.lease(0).proven_secs, 300 + u64::from(since_decision));
    first.stop().await;
    second.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_open_dispute_is_decided_by_the_oracles_re_judging_their_evidence_without_the_admin(pool: PgPool) {
    // An honest lease, 15 minutes in, attested by the quorum; the renter disputes it anyway.
    let world = OracleWorld::new(1, 8, 2, 900);
    let store = Store::new(pool.clone());
    store.insert_heartbeats(&beats(&world, 0, world.start, 30, false)).await.unwrap();
    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let first = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let second = world.start_oracle(pool.clone(), 1, config.clone()).await;
    first.attestor.round().await.unwrap();
    second.attestor.round().await.unwrap();
    let attested = world.lease(0);
    renter_disputes_the_first_lease(&world);
    let treasury = world.chain.lock().config().params.treasury;
    let contested = world.lease(0).disputed_as_of;
    assert!(contested > world.start);

    // Each oracle's next round re-judges the lease up to the contested window from its stored evidence and
    // gives its verdict once; the second completes the quorum, which finds what was attested: rejected.
    first.attestor.round().await.unwrap();
    assert!(world.lease(0).is_disputed(), "one verdict is not a quorum");
    first.attestor.round().await.unwrap();
    second.attestor.round().await.unwrap();
    let decided = world.lease(0);
    assert!(!decided.is_disputed());
    assert_eq!((decided.proven_secs, decided.faults), (attested.proven_secs, attested.faults));
    assert_eq!((decided.final_secs, decided.resolved_at), (attested.proven_secs, contested));
    let treasury_tokens = anchor_spl::associated_token::get_associated_token_address_with_program_id(
        &treasury,
        &world.chain.lock().payment_mint,
        &anchor_spl::token::ID,
    );
    assert_eq!(world.chain.lock().token_balance(&treasury_tokens), 10 * timelock_tests::ONE_USDC);
    // What each verdict committed to is kept, under the root it carried on chain.
    let verdicts: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.evidence WHERE window_end = $1 AND leaves = 1")
        .bind(contested)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(verdicts, 2);
    first.stop().await;
    second.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn after_its_first_round_an_oracle_attests_sixty_leases_a_transaction_through_its_lookup_table(pool: PgPool) {
    let world = OracleWorld::new(70, 1, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    let rows: Vec<_> = (0..70).flat_map(|w| beats(&world, w, start, 10, false)).collect();
    store.insert_heartbeats(&rows).await.unwrap();
    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;

    // No table yet: the packet holds 22 leases. The round then puts all 70 in a table of the oracle's.
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!((round.sent.len(), round.transactions, round.failed_transactions), (70, 4, 0));
    let me = timelock_tests::Signer::pubkey(oracle.attestor.signer.as_ref()).to_bytes();
    assert_eq!(store.lookup_tables(&me).await.unwrap().len(), 1);

    // A minute later (the table's addresses are usable from the next slot): 60 leases a transaction.
    world.chain.lock().warp(60);
    let rows: Vec<_> = (0..70).flat_map(|w| beats(&world, w, start + 300, 2, false)).collect();
    store.insert_heartbeats(&rows).await.unwrap();
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!((round.sent.len(), round.transactions, round.failed_transactions), (70, 2, 0));
    let voted = world.lease(69).votes[0].window_end;
    assert_eq!(voted, round.window_end, "the last lease's vote is this round's");
    assert_eq!(store.lookup_tables(&me).await.unwrap().len(), 1, "the table is reused");
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_node_that_refuses_v0_transactions_slows_attestation_to_legacy_batches_but_never_stops_it(pool: PgPool) {
    let world = OracleWorld::new(30, 1, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    let beats_from = |from: i64| -> Vec<_> { (0..30).flat_map(|w| beats(&world, w, from, 2, false)).collect() };
    store.insert_heartbeats(&beats_from(start)).await.unwrap();
    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    assert_eq!(oracle.attestor.round().await.unwrap().failed_transactions, 0, "legacy, and the leases go in a table");

    // The node stops taking v0: the round through the table fails, the next one goes without and lands.
    world.chain.refuse_v0.store(true, std::sync::atomic::Ordering::SeqCst);
    world.chain.lock().warp(60);
    store.insert_heartbeats(&beats_from(start + 60)).await.unwrap();
    let failed = oracle.attestor.round().await.unwrap();
    assert_eq!((failed.transactions, failed.failed_transactions), (1, 1));
    let fell_back = oracle.attestor.round().await.unwrap();
    assert_eq!((fell_back.sent.len(), fell_back.transactions, fell_back.failed_transactions), (30, 2, 0));
    assert_eq!(world.lease(29).votes[0].window_end, fell_back.window_end);
}
