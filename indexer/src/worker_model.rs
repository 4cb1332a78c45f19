//! The live workers in memory, for `GET /v1/workers` and `GET /v1/workers/{address}`: the explorers' most frequent
//! requests, which Postgres answered at about 1.5 ms of its time per filtered page. `indexer.workers` stays the
//! source of truth, and every answer is what it holds at some moment after the request arrived: before answering,
//! a request waits for a read of the table's generation that started after it arrived
//! (`migrations/indexer/0015_indexer_worker_changes.sql`: every statement that writes workers stamps the next one
//! on the addresses it wrote, in commit order), and when the copy is older, for the rows stamped since, read in one
//! statement. That read is shared by every request waiting for it ([`ReadBarrier`]): Postgres answers at most one
//! at a time per process, however many requests arrive. So any number of API processes, an ingesting one or
//! `--api-only` ones, on the primary or a replica, after a restart or while another process writes, answer as the
//! table does; none serves from its copy without asking Postgres first.
//!
//! A page is a range of one ordered index of the partition the filter names (all workers, one GPU model, one
//! region, both, or one supplier), read in the list's order from its cursor, with the remaining filters applied as
//! SQL applies them, until the page is full; each row's JSON is serialized once, when it changes.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use timelock_sdk::filter::WorkerSort;

use crate::read_barrier::ReadBarrier;
use timelock_sdk::view::WorkerView;

/// A live worker: what the filters compare, and its view as the API serves it.
struct Row {
    address: Arc<str>,
    supplier: String,
    gpu_model: String,
    region: String,
    gpu_count: u16,
    vram_gib: u16,
    connectivity_tier: u8,
    compliance: u8,
    green_energy: bool,
    bookable: bool,
    price_per_gpu_hour: u64,
    registered_at: i64,
    json: Box<str>,
}

impl Row {
    fn new(view: &WorkerView) -> serde_json::Result<Self> {
        Ok(Row {
            address: view.address.as_str().into(),
            supplier: view.supplier.clone(),
            gpu_model: view.gpu_model.clone(),
            region: view.region.clone(),
            gpu_count: view.gpu_count,
            vram_gib: view.vram_gib,
            connectivity_tier: view.connectivity_tier,
            compliance: view.compliance,
            green_energy: view.green_energy,
            bookable: view.bookable,
            price_per_gpu_hour: view.price_per_gpu_hour,
            registered_at: view.registered_at,
            json: serde_json::to_string(view)?.into(),
        })
    }

    fn partitions(&self) -> [Partition; 5] {
        [
            Partition::All,
            Partition::Model(self.gpu_model.clone()),
            Partition::Region(self.region.clone()),
            Partition::ModelRegion(self.gpu_model.clone(), self.region.clone()),
            Partition::Supplier(self.supplier.clone()),
        ]
    }

    /// The row's value in a list order, mapped to u64 so that the order is kept (i64 with its sign bit flipped).
    fn key(&self, column: Column) -> u64 {
        match column {
            Column::Price => self.price_per_gpu_hour,
            Column::Gpus => signed(i64::from(self.gpu_count)),
            Column::Registered => signed(self.registered_at),
        }
    }

    /// The value as the SQL list writes it into a cursor (`column::text`).
    fn cursor_value(&self, column: Column) -> String {
        match column {
            Column::Price => self.price_per_gpu_hour.to_string(),
            Column::Gpus => self.gpu_count.to_string(),
            Column::Registered => self.registered_at.to_string(),
        }
    }
}

fn signed(value: i64) -> u64 {
    (value as u64) ^ (1 << 63)
}

/// The sort columns of the worker list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Price,
    Gpus,
    Registered,
}

const COLUMNS: [Column; 3] = [Column::Price, Column::Gpus, Column::Registered];

impl Column {
    /// A cursor's value as this column's key (its SQL type: NUMERIC, int4, int8), or `None` if it is not one.
    fn parse(self, value: &str) -> Option<u64> {
        match self {
            Column::Price => value.parse().ok(),
            Column::Gpus => value.parse::<i32>().ok().map(|v| signed(i64::from(v))),
            Column::Registered => value.parse().ok().map(signed),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Partition {
    All,
    Model(String),
    Region(String),
    ModelRegion(String, String),
    Supplier(String),
}

type Key = (u64, Arc<str>);

/// One partition's workers in each list order: (value, address) as the SQL orders them, the address compared
/// byte-wise (`COLLATE "C"`).
#[derive(Default)]
struct Orders([BTreeMap<Key, Arc<Row>>; 3]);

/// What a worker page asks for: the checked filter, in the stored spellings.
pub struct WorkerQuery<'a> {
    pub sort: WorkerSort,
    pub gpu_model: Option<&'a str>,
    pub region: Option<&'a str>,
    pub supplier: Option<&'a str>,
    pub min_gpus: Option<u16>,
    pub min_vram_gib: Option<u16>,
    pub min_connectivity_tier: Option<u8>,
    pub compliance: Option<u8>,
    pub green: Option<bool>,
    pub available: Option<bool>,
    pub max_price: Option<u64>,
    /// The previous page's last (value, address), as decoded from its cursor.
    pub cursor: Option<(String, String)>,
    pub limit: usize,
}

impl WorkerQuery<'_> {
    /// The list's `WHERE`, on one row.
    fn matches(&self, row: &Row) -> bool {
        self.gpu_model.is_none_or(|m| row.gpu_model == m)
            && self.region.is_none_or(|r| row.region == r)
            && self.supplier.is_none_or(|s| row.supplier == s)
            && self.min_gpus.is_none_or(|n| row.gpu_count >= n)
            && self.min_vram_gib.is_none_or(|n| row.vram_gib >= n)
            && self.min_connectivity_tier.is_none_or(|t| row.connectivity_tier >= t)
            && self.compliance.is_none_or(|bits| row.compliance & bits == bits)
            && self.green.is_none_or(|g| row.green_energy == g)
            && self.available.is_none_or(|a| row.bookable == a)
            && self.max_price.is_none_or(|p| row.price_per_gpu_hour <= p)
    }

    fn partition(&self) -> Partition {
        match (self.supplier, self.gpu_model, self.region) {
            (Some(s), _, _) => Partition::Supplier(s.to_string()),
            (None, Some(m), Some(r)) => Partition::ModelRegion(m.to_string(), r.to_string()),
            (None, Some(m), None) => Partition::Model(m.to_string()),
            (None, None, Some(r)) => Partition::Region(r.to_string()),
            (None, None, None) => Partition::All,
        }
    }
}

/// The cursor does not belong to this list and order.
#[derive(Debug)]
pub struct BadCursor;

#[derive(Default)]
struct Live {
    /// The generation of `indexer.worker_generation` this copy equals.
    generation: i64,
    rows: HashMap<Arc<str>, Arc<Row>>,
    partitions: HashMap<Partition, Orders>,
}

impl Live {
    fn remove(&mut self, address: &str) {
        let Some(row) = self.rows.remove(address) else { return };
        for partition in row.partitions() {
            if let Some(orders) = self.partitions.get_mut(&partition) {
                for (i, column) in COLUMNS.into_iter().enumerate() {
                    orders.0[i].remove(&(row.key(column), row.address.clone()));
                }
                if orders.0[0].is_empty() {
                    self.partitions.remove(&partition);
                }
            }
        }
    }

    fn insert(&mut self, row: Row) {
        self.remove(&row.address);
        let row = Arc::new(row);
        for partition in row.partitions() {
            let orders = self.partitions.entry(partition).or_default();
            for (i, column) in COLUMNS.into_iter().enumerate() {
                orders.0[i].insert((row.key(column), row.address.clone()), row.clone());
            }
        }
        self.rows.insert(row.address.clone(), row);
    }
}

/// Why the copy could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored row that does not read back as a view: a server fault, never a row silently left out.
    #[error("stored worker row does not match its view: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// The live workers, equal to `indexer.workers` at the generation they hold.
pub struct WorkerModel {
    copy: RwLock<Live>,
    /// The generation reads the requests wait for, one at a time (also the only writer of the copy after load).
    barrier: ReadBarrier<SyncError>,
    /// The connection the generation is read on, taken out of the API's pool: a pooled one would be pinged
    /// before every read (sqlx tests a connection on acquire), a second round trip on the path of every answer.
    generation_reader: tokio::sync::Mutex<Option<PoolConnection<Postgres>>>,
    /// Connections without the API's statement timeout, for reading many rows at once.
    pool: PgPool,
}

/// Each stored row as its view (the API's `VIEW_OF`), as JSON text.
const VIEW: &str = "(to_jsonb(w) - 'slot' - 'finalized' - 'closed')::text";

impl WorkerModel {
    /// Reads every live worker.
    pub async fn load(pool: &PgPool) -> Result<Self, SyncError> {
        let model = WorkerModel {
            copy: RwLock::default(),
            barrier: ReadBarrier::default(),
            generation_reader: tokio::sync::Mutex::default(),
            pool: pool.clone(),
        };
        model.reload().await?;
        Ok(model)
    }

    /// Replaces the copy with every live worker and the generation they are at, read in one snapshot.
    async fn reload(&self) -> Result<(), SyncError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        let generation: i64 =
            sqlx::query_scalar("SELECT generation FROM indexer.worker_generation").fetch_one(&mut *tx).await?;
        let views: Vec<String> = sqlx::query_scalar(&format!("SELECT {VIEW} FROM indexer.workers w WHERE NOT closed"))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut copy = Live { generation, ..Live::default() };
        for view in views {
            copy.insert(Row::new(&serde_json::from_str(&view)?)?);
        }
        *self.copy.write().unwrap_or_else(|e| e.into_inner()) = copy;
        Ok(())
    }

    fn generation(&self) -> i64 {
        self.copy.read().unwrap_or_else(|e| e.into_inner()).generation
    }

    /// Returns once the copy holds what `indexer.workers` held at some moment after this call: a catch-up that
    /// started after it has ended (on `pool`, the API's connections).
    pub async fn sync(self: &Arc<Self>, pool: &PgPool) -> Result<(), Arc<SyncError>> {
        let ticket = self.barrier.join();
        if ticket.start_runner {
            let (model, pool) = (self.clone(), pool.clone());
            tokio::spawn(async move { model.barrier.run(|| model.catch_up(&pool)).await });
        }
        self.barrier.wait(ticket).await
    }

    /// `indexer.worker_generation` now. A connection that fails (closed by a restart, an idle timeout) is
    /// replaced and asked once more, as the pool's ping would have replaced it. So is one that does not answer in
    /// time: a connection dropped silently (a NAT or firewall idle timeout) would otherwise hold every worker
    /// request until TCP gives up, about 15 minutes, since the held connection escapes the pool's own checks.
    async fn read_generation(&self, pool: &PgPool) -> sqlx::Result<i64> {
        const GENERATION: &str = "SELECT generation FROM indexer.worker_generation";
        const HELD_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
        let mut reader = self.generation_reader.lock().await;
        if let Some(connection) = reader.as_mut() {
            let read = sqlx::query_scalar(GENERATION).fetch_one(&mut **connection);
            match tokio::time::timeout(HELD_READ_TIMEOUT, read).await {
                Ok(Ok(generation)) => return Ok(generation),
                Ok(Err(error)) => tracing::info!(%error, "generation read failed; reading on a new connection"),
                Err(_) => {
                    tracing::warn!("generation read unanswered for 2 s; reading on a new connection");
                    // Out of the pool: a connection left mid-query must not serve anyone else.
                    if let Some(unanswered) = reader.take() {
                        drop(unanswered.detach());
                    }
                }
            }
        }
        let connection = reader.insert(pool.acquire().await?);
        let read = sqlx::query_scalar(GENERATION).fetch_one(&mut **connection).await;
        if read.is_err() {
            *reader = None;
        }
        read
    }

    /// Asks the generation and, if it moved, reads the rows written since.
    async fn catch_up(&self, pool: &PgPool) -> Result<(), SyncError> {
        let now = self.read_generation(pool).await?;
        let held = self.generation();
        if held == now {
            return Ok(());
        }
        // The counter and the changed rows in one statement: one snapshot.
        type Change = (i64, i64, Option<String>, Option<String>);
        let changes: Vec<Change> = sqlx::query_as(&format!(
            "SELECT g.generation, g.reset, c.address, CASE WHEN NOT w.closed THEN {VIEW} END \
             FROM indexer.worker_generation g \
             LEFT JOIN indexer.worker_changes c ON c.generation > $1 \
             LEFT JOIN indexer.workers w ON w.address = c.address"
        ))
        .bind(held)
        .fetch_all(&self.pool)
        .await?;
        let Some(&(generation, reset, _, _)) = changes.first() else { return Ok(()) };
        // Emptied since, or generations gone back (another database behind the same URL, restored or
        // recreated): everything is read again.
        if reset > held || generation < held {
            return self.reload().await;
        }
        let mut rows = Vec::new();
        for (_, _, address, view) in &changes {
            if let Some(address) = address {
                rows.push((address, view.as_deref().map(serde_json::from_str::<WorkerView>).transpose()?));
            }
        }
        let fresh = rows
            .into_iter()
            .map(|(address, view)| Ok((address, view.as_ref().map(Row::new).transpose()?)))
            .collect::<serde_json::Result<Vec<_>>>()?;
        let mut copy = self.copy.write().unwrap_or_else(|e| e.into_inner());
        for (address, row) in fresh {
            match row {
                Some(row) => copy.insert(row),
                None => copy.remove(address),
            }
        }
        copy.generation = generation;
        Ok(())
    }

    /// A live worker's view as JSON.
    pub fn get(&self, address: &str) -> Option<Box<str>> {
        self.copy.read().unwrap_or_else(|e| e.into_inner()).rows.get(address).map(|row| row.json.clone())
    }

    /// A page of the worker list as the API's JSON body (`Page<WorkerView>`), with the next page's cursor made by
    /// `cursor(value, address)`.
    pub fn page(&self, query: &WorkerQuery, cursor: impl Fn(&str, &str) -> String) -> Result<String, BadCursor> {
        let (column, descending) = match query.sort {
            WorkerSort::Price => (Column::Price, false),
            WorkerSort::PriceDescending => (Column::Price, true),
            WorkerSort::GpusDescending => (Column::Gpus, true),
            WorkerSort::RegisteredDescending => (Column::Registered, true),
        };
        let after = match &query.cursor {
            Some((value, address)) => Some((column.parse(value).ok_or(BadCursor)?, Arc::<str>::from(address.as_str()))),
            None => None,
        };
        let copy = self.copy.read().unwrap_or_else(|e| e.into_inner());
        let mut page: Vec<&Arc<Row>> = Vec::with_capacity(query.limit + 1);
        if let Some(orders) = copy.partitions.get(&query.partition()) {
            let order = &orders.0[COLUMNS.iter().position(|c| *c == column).unwrap_or(0)];
            // Prices above the filter's maximum are past the end of an ascending page and skipped by a descending
            // one.
            let max_price = query.max_price.filter(|_| column == Column::Price);
            let wanted = |row: &&Arc<Row>| query.matches(row);
            if descending {
                let mut upper = after.map_or(Bound::Unbounded, Bound::Excluded);
                if let Some(max) = max_price.and_then(|p| p.checked_add(1)) {
                    let below_max = (max, Arc::<str>::from(""));
                    if matches!(&upper, Bound::Unbounded) || matches!(&upper, Bound::Excluded(k) if *k > below_max) {
                        upper = Bound::Excluded(below_max);
                    }
                }
                let range = order.range((Bound::Unbounded, upper)).rev();
                page.extend(range.map(|(_, row)| row).filter(wanted).take(query.limit + 1));
            } else {
                let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
                let range = order.range((lower, Bound::Unbounded));
                let in_price = range.take_while(|((value, _), _)| max_price.is_none_or(|max| *value <= max));
                page.extend(in_price.map(|(_, row)| row).filter(wanted).take(query.limit + 1));
            }
        }
        let next = (page.len() > query.limit).then(|| {
            page.truncate(query.limit);
            let last = page.last().expect("limit ≥ 1");
            cursor(&last.cursor_value(column), &last.address)
        });
        let mut body = String::with_capacity(64 + page.iter().map(|row| row.json.len() + 1).sum::<usize>());
        body.push_str("{\"items\":[");
        for (i, row) in page.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&row.json);
        }
        body.push_str("],\"next_cursor\":");
        match next {
            Some(next) => body.push_str(&serde_json::Value::String(next).to_string()),
            None => body.push_str("null"),
        }
        body.push('}');
        Ok(body)
    }
}
