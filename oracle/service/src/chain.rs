//! What the oracle reads from chain, cached: a worker's device key and hardware, and a lease's worker and
//! time span. Reads go through the SDK's [`Backend`] (JSON-RPC in production, LiteSVM in tests) on the blocking
//! pool, so a slow node never stalls the async workers.

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
    pub gpu_count: u16,
    /// Catalog name (`H100-SXM`), as agents report it.
    pub gpu_model: String,
}

impl WorkerInfo {
    pub fn from_account(worker: &Worker) -> Self {
        WorkerInfo {
            device_key: worker.spec.device_key.to_bytes(),
            gpu_count: worker.spec.gpu_count,
            gpu_model: timelock_sdk::catalog::gpu_model_name(worker.spec.gpu_model).unwrap_or("unknown").to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseInfo {
    pub worker: Pubkey,
    pub start_ts: i64,
    /// The cluster's end, or the lease's removal when earlier.
    pub end_ts: i64,
}

impl LeaseInfo {
    pub fn from_accounts(lease: &Lease, cluster: &Cluster) -> Self {
        LeaseInfo { worker: lease.worker, start_ts: lease.start_ts, end_ts: lease.end_ts(cluster.end_ts) }
    }
}

type Cache<V> = Mutex<HashMap<Pubkey, (Instant, Option<V>)>>;

pub struct Chain {
    pub client: SharedClient,
    ttl: Duration,
    workers: Cache<WorkerInfo>,
    leases: Cache<LeaseInfo>,
}

impl Chain {
    pub fn new(client: SharedClient, ttl: Duration) -> Self {
        Chain { client, ttl, workers: Mutex::default(), leases: Mutex::default() }
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

    fn cached<V: Clone>(&self, cache: &Cache<V>, key: &Pubkey) -> Option<Option<V>> {
        let cache = cache.lock().expect("chain cache lock");
        cache.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, value)| value.clone())
    }

    fn remember<V>(cache: &Cache<V>, key: Pubkey, value: Option<V>) {
        cache.lock().expect("chain cache lock").insert(key, (Instant::now(), value));
    }

    pub async fn worker(&self, worker: Pubkey) -> Result<Option<WorkerInfo>, ClientError> {
        if let Some(hit) = self.cached(&self.workers, &worker) {
            return Ok(hit);
        }
        let found = self
            .read(move |client| match client.account::<Worker>(&worker) {
                Ok(account) => Ok(Some(WorkerInfo::from_account(&account))),
                Err(ClientError::AccountNotFound(_) | ClientError::Decode(..)) => Ok(None),
                Err(other) => Err(other),
            })
            .await?;
        Self::remember(&self.workers, worker, found.clone());
        Ok(found)
    }

    /// The lease, fresh from chain when `refresh` (a cached span may predate an extension).
    pub async fn lease(&self, lease: Pubkey, refresh: bool) -> Result<Option<LeaseInfo>, ClientError> {
        if !refresh {
            if let Some(hit) = self.cached(&self.leases, &lease) {
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
            .await?;
        Self::remember(&self.leases, lease, found);
        Ok(found)
    }
}
