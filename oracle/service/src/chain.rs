//! What the oracle reads from chain, cached: a worker's device key and hardware, and a lease's worker and
//! time span. Reads go through the SDK's [`Backend`] (JSON-RPC in production, LiteSVM in tests) on the blocking
//! pool, so a slow node never stalls the async workers. When the node fails, what was read within
//! `stale_secs` is served instead (an account's device key and a lease's span rarely change). Whether the node is
//! down is the liveness probe's to say (`crate::outages`), never a read driven by a request: anyone can make
//! those fail (made-up keys, rate limits), and an outage excuses intervals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use timelock::state::{Cluster, Lease, Worker};
use timelock_sdk::client::{Backend, Client, ClientError};

pub type SharedBackend = Arc<dyn Backend + Send + Sync>;
pub type SharedClient = Arc<Client<SharedBackend>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    pub device_key: [u8; 32],
    /// The device key decompressed, once per read of the account rather than once per heartbeat (`None`: the
    /// registered key is no ed25519 point, and no heartbeat of the worker verifies).
    pub verifying_key: Option<timelock_protocol::DeviceKey>,
    pub gpu_count: u16,
    /// Catalog name (`H100-SXM`), as agents report it.
    pub gpu_model: String,
    /// Digest of the GPUs registered to the worker (`Gpu::set_digest`).
    pub gpu_set: [u8; 32],
}

impl WorkerInfo {
    pub fn from_account(worker: &Worker) -> Self {
        WorkerInfo {
            device_key: worker.spec.device_key.to_bytes(),
            verifying_key: timelock_protocol::device_key(&worker.spec.device_key.to_bytes()).ok(),
            gpu_count: worker.spec.gpu_count,
            gpu_model: timelock_sdk::catalog::gpu_model_name(worker.spec.gpu_model).unwrap_or("unknown").to_string(),
            gpu_set: worker.gpu_set,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseInfo {
    pub worker: Pubkey,
    pub cluster: Pubkey,
    /// The cluster's renter: who may grant a probe a voice on this lease.
    pub renter: Pubkey,
    pub start_ts: i64,
    /// The cluster's end, or the lease's removal when earlier.
    pub end_ts: i64,
}

impl LeaseInfo {
    pub fn from_accounts(lease: &Lease, cluster: &Cluster) -> Self {
        LeaseInfo {
            worker: lease.worker,
            cluster: lease.cluster,
            renter: cluster.renter,
            start_ts: lease.start_ts,
            end_ts: lease.end_ts(cluster.end_ts),
        }
    }
}

/// What was read of an account (or that it does not exist) and when, for at most `capacity` accounts. Entries
/// are fresh for `ttl` and kept for `keep` (at least `ttl`), to be served when the node fails.
///
/// Accounts found not to exist are held apart, in a quarter of the room: the keys come from requests, so
/// made-up ones (anyone can send any) then evict only each other, never a real worker or lease.
pub struct BoundedCache<V> {
    entries: Mutex<(Entries<V>, Entries<()>)>,
    ttl: Duration,
    keep: Duration,
}

struct Entries<T> {
    map: HashMap<Pubkey, (Instant, T)>,
    capacity: usize,
}

impl<T> Entries<T> {
    fn new(capacity: usize) -> Self {
        Entries { map: HashMap::new(), capacity: capacity.max(2) }
    }

    /// When full, entries past `keep` go first, then the older half of the fresh ones: an eviction costs O(n)
    /// at most once per `capacity / 2` insertions.
    fn insert(&mut self, key: Pubkey, value: T, keep: Duration) {
        let map = &mut self.map;
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, (at, _)| at.elapsed() < keep);
            if map.len() >= self.capacity {
                let mut ages: Vec<Instant> = map.values().map(|(at, _)| *at).collect();
                let middle = ages.len() / 2;
                let (_, cutoff, _) = ages.select_nth_unstable(middle);
                let cutoff = *cutoff;
                map.retain(|_, (at, _)| *at > cutoff);
            }
        }
        map.insert(key, (Instant::now(), value));
    }
}

impl<V: Clone> BoundedCache<V> {
    pub fn new(ttl: Duration, keep: Duration, capacity: usize) -> Self {
        let entries = (Entries::new(capacity), Entries::new(capacity / 4));
        BoundedCache { entries: Mutex::new(entries), ttl, keep: keep.max(ttl) }
    }

    /// `Some(value)` for a fresh entry (`value` is `None` for an account known not to exist).
    pub fn get(&self, key: &Pubkey) -> Option<Option<V>> {
        self.get_within(key, self.ttl)
    }

    /// An entry past its TTL but still kept: what to serve while the node fails.
    pub fn get_stale(&self, key: &Pubkey) -> Option<Option<V>> {
        self.get_within(key, self.keep)
    }

    fn get_within(&self, key: &Pubkey, age: Duration) -> Option<Option<V>> {
        let (found, missing) = &*self.entries.lock().expect("chain cache lock");
        let fresh = |at: &Instant| at.elapsed() < age;
        match found.map.get(key) {
            Some((at, value)) => fresh(at).then(|| Some(value.clone())),
            None => missing.map.get(key).filter(|(at, _)| fresh(at)).map(|_| None),
        }
    }

    /// A key is in one map at most: what was read last replaces what was known.
    pub fn insert(&self, key: Pubkey, value: Option<V>) {
        let (found, missing) = &mut *self.entries.lock().expect("chain cache lock");
        match value {
            Some(value) => {
                missing.map.remove(&key);
                found.insert(key, value, self.keep);
            }
            None => {
                found.map.remove(&key);
                missing.insert(key, (), self.keep);
            }
        }
    }

    pub fn len(&self) -> usize {
        let (found, missing) = &*self.entries.lock().expect("chain cache lock");
        found.map.len() + missing.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct Chain {
    pub client: SharedClient,
    workers: BoundedCache<WorkerInfo>,
    leases: BoundedCache<LeaseInfo>,
}

impl Chain {
    /// Reads are fresh for `ttl` and served up to `stale` old while the node fails, for at most `entries` workers
    /// and as many leases. The bound matters: the keys come from requests (a heartbeat names its worker and lease),
    /// so without one anyone could grow the oracle's memory with made-up keys, each remembered as "not found".
    pub fn new(client: SharedClient, ttl: Duration, stale: Duration, entries: usize) -> Self {
        Chain {
            client,
            workers: BoundedCache::new(ttl, stale, entries),
            leases: BoundedCache::new(ttl, stale, entries),
        }
    }

    /// Every read goes to the node.
    pub fn uncached(client: SharedClient) -> Self {
        Self::new(client, Duration::ZERO, Duration::ZERO, 2)
    }

    /// Runs a blocking read of the chain on the blocking pool.
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Client<SharedBackend>) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let client = self.client.clone();
        tokio::task::spawn_blocking(move || read(&client))
            .await
            .unwrap_or_else(|e| Err(ClientError::Rpc(format!("chain read panicked: {e}"))))
    }

    pub async fn worker(&self, worker: Pubkey) -> Result<Option<WorkerInfo>, ClientError> {
        if let Some(hit) = self.workers.get(&worker) {
            return Ok(hit);
        }
        let found = self
            .read(move |client| match client.account::<Worker>(&worker) {
                Ok(account) => Ok(Some(WorkerInfo::from_account(&account))),
                Err(ClientError::AccountNotFound(_) | ClientError::Decode(..)) => Ok(None),
                Err(other) => Err(other),
            })
            .await;
        let found = match found {
            Err(error) => return self.workers.get_stale(&worker).ok_or(error),
            Ok(found) => found,
        };
        self.workers.insert(worker, found.clone());
        Ok(found)
    }

    /// The lease, fresh from chain when `refresh` (a cached span may predate an extension).
    pub async fn lease(&self, lease: Pubkey, refresh: bool) -> Result<Option<LeaseInfo>, ClientError> {
        if !refresh {
            if let Some(hit) = self.leases.get(&lease) {
                return Ok(hit);
            }
        }
        let found = self
            .read(move |client| {
                let account = match client.account::<Lease>(&lease) {
                    Ok(account) => account,
                    Err(ClientError::AccountNotFound(_) | ClientError::Decode(..)) => return Ok(None),
                    Err(other) => return Err(other),
                };
                let cluster = client.account::<Cluster>(&account.cluster)?;
                Ok(Some(LeaseInfo::from_accounts(&account, &cluster)))
            })
            .await;
        let found = match found {
            Err(error) => return self.leases.get_stale(&lease).ok_or(error),
            Ok(found) => found,
        };
        self.leases.insert(lease, found);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_keys_neither_grow_the_cache_past_its_bound_nor_evict_real_accounts() {
        let cache: BoundedCache<u8> = BoundedCache::new(Duration::from_secs(3_600), Duration::ZERO, 100);
        let known: Vec<Pubkey> = (0..100).map(|_| Pubkey::new_unique()).collect();
        for key in &known {
            cache.insert(*key, Some(7));
        }
        for _ in 0..10_000 {
            cache.insert(Pubkey::new_unique(), None);
            assert!(cache.len() <= 100 + 25);
        }
        for key in &known {
            assert_eq!(cache.get(key), Some(Some(7)), "a real account outlives any number of made-up keys");
        }
        // Real accounts evict each other, the older half first; a fresh lookup is what an evicted key costs.
        let newer = Pubkey::new_unique();
        cache.insert(newer, Some(8));
        assert_eq!(cache.get(&newer), Some(Some(8)));
        assert!(cache.len() <= 100 + 25);
    }

    #[test]
    fn what_was_read_last_is_what_is_served() {
        let cache: BoundedCache<u8> = BoundedCache::new(Duration::from_secs(3_600), Duration::from_secs(3_600), 10);
        let key = Pubkey::new_unique();
        cache.insert(key, None);
        assert_eq!(cache.get(&key), Some(None));
        // The account was created.
        cache.insert(key, Some(1));
        assert_eq!((cache.get(&key), cache.get_stale(&key)), (Some(Some(1)), Some(Some(1))));
        // And closed.
        cache.insert(key, None);
        assert_eq!((cache.get(&key), cache.get_stale(&key), cache.len()), (Some(None), Some(None), 1));
    }

    #[test]
    fn expired_entries_are_not_served() {
        let cache: BoundedCache<u8> = BoundedCache::new(Duration::ZERO, Duration::from_secs(600), 10);
        let key = Pubkey::new_unique();
        cache.insert(key, Some(1));
        assert_eq!(cache.get(&key), None);
        // Kept for when the node fails.
        assert_eq!(cache.get_stale(&key), Some(Some(1)));
    }
}
