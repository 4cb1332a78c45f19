//! Ingestion: the mirror equals the chain, batches are idempotent, older slots never win, and every dispute outcome is mirrored.

use super::*;

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_mirror_equals_the_chain_and_batches_are_idempotent(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    let store = Store::new(pool.clone());
    let total_events: usize = recorded.chunks(4).map(|c| batch_of(c).events.len()).sum();
    for chunk in recorded.chunks(4) {
        store.apply("replay", &batch_of(chunk)).await.unwrap();
    }
    assert_mirror(&m.f, &pool).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&pool).await.unwrap();
    assert_eq!(events as usize, total_events);
    assert!(total_events > 15, "every state change emits an event ({total_events})");

    // Settlement paid both suppliers, slashed the cheater, and the claim is a payout too.
    let payouts: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT kind, supplier, amount::int8 FROM indexer.payouts ORDER BY kind, supplier")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(payouts.iter().filter(|p| p.0 == "settlement").count(), 2);
    assert!(payouts.iter().any(|p| p.0 == "claim" && p.1 == m.supplier_a.to_string() && p.2 > 0));
    let slashes: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT supplier, lease, amount::int8 FROM indexer.slashes").fetch_all(&pool).await.unwrap();
    assert_eq!(slashes.len(), 1);
    assert_eq!(
        (slashes[0].0.as_str(), slashes[0].1.as_str()),
        (m.supplier_b.to_string().as_str(), m.cheater_lease.to_string().as_str())
    );
    assert_eq!(slashes[0].2 as u64, m.f.account::<Lease>(&m.cheater_lease).slashed);
    let attestations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM indexer.attestations").fetch_one(&pool).await.unwrap();
    assert_eq!(attestations, 4, "two oracles × two leases");

    // The same batches again change nothing.
    let before = fingerprint(&pool).await;
    for chunk in recorded.chunks(4) {
        store.apply("replay", &batch_of(chunk)).await.unwrap();
    }
    assert_eq!(fingerprint(&pool).await, before);

    // A state from an older slot is ignored: the worker's registration state comes back from the first batch.
    let worker = m.h100_a.worker;
    let first = recorded.iter().find(|r| r.accounts.iter().any(|(a, d)| *a == worker && d.is_some())).unwrap();
    let stale = Batch {
        accounts: first
            .accounts
            .iter()
            .map(|(a, d)| AccountRecord { address: *a, slot: first.slot, data: d.clone() })
            .collect(),
        ..Batch::default()
    };
    store.apply("replay", &stale).await.unwrap();
    assert_mirror(&m.f, &pool).await;
    assert_eq!(fingerprint(&pool).await, before);
}

/// kind, disputer, bond, upheld, proven_secs, faults, bond_to
type DisputeRow = (String, String, i64, Option<bool>, Option<i64>, Option<i64>, Option<String>);

#[sqlx::test(migrator = "MIGRATIONS")]
async fn every_dispute_outcome_is_mirrored(pool: PgPool) {
    // The renter disputes and the admin decides; later the supplier disputes and nobody decides, so the dispute
    // lapses at settlement and its bond goes to the renter.
    let mut f = TestFixture::deployed();
    f.journal = Some(Vec::new());
    f.init_config().unwrap();
    let (supplier, workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 2).unwrap();
    f.add_workers(&renter, 1, &workers).unwrap();
    let lease = f.lease_address(&renter, 1, &workers[0]);
    f.warp(HOUR);
    let window = f.now();
    f.attest_quorum(2, window, &[(lease, 3_600, 1)]);
    let payment = f.payment(&renter, 1);
    let w = workers[0];
    f.exec(ix::lease_dispute(renter.key(), renter.payment_tokens, payment, w.worker, w.supplier), &[&renter.authority]);
    let admin = f.admin.insecure_clone();
    let treasury = f.treasury_payment_tokens;
    let resolve = ix::lease_dispute_resolve(
        admin.pubkey(),
        payment,
        w.worker,
        renter.payment_tokens,
        treasury,
        3_000,
        0,
        f.now(),
        true,
    );
    f.exec(resolve, &[&admin]);
    f.mint_to(f.payment_mint, supplier.payment_tokens, 10 * ONE_USDC);
    let dispute = ix::lease_dispute(supplier.key(), supplier.payment_tokens, payment, w.worker, w.supplier);
    f.exec(dispute, &[&supplier.authority]);
    f.warp(f.config().params.dispute_timeout_secs);
    f.settle(&renter, 1, &w).unwrap();

    let recorded = f.journal.take().unwrap();
    Store::new(pool.clone()).apply("replay", &batch_of(&recorded)).await.unwrap();
    let rows: Vec<DisputeRow> = sqlx::query_as(
        "SELECT kind, disputer, bond::int8, upheld, proven_secs::int8, faults::int8, bond_to FROM indexer.disputes ORDER BY slot, event_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let (renter_key, supplier_key) = (renter.key().to_string(), supplier.key().to_string());
    let bond = 10 * ONE_USDC as i64;
    assert_eq!(
        rows,
        vec![
            ("opened".into(), renter_key.clone(), bond, None, None, None, None),
            ("resolved".into(), renter_key.clone(), bond, Some(true), Some(3_000), Some(0), None),
            ("opened".into(), supplier_key.clone(), bond, None, None, None, None),
            ("lapsed".into(), supplier_key, bond, None, None, None, Some(renter_key)),
        ]
    );
}
