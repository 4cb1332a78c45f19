//! `timelock stats`: network totals read from chain, under the indexer API's `/v1/stats` names.

use serde_json::json;
use timelock::state::{Supplier, Worker};
use timelock_sdk::client::Backend;

use crate::{CliResult, Context};

pub fn run<B: Backend>(ctx: &Context<B>) -> CliResult {
    let workers = ctx.client.search::<Worker>(&[])?;
    let gpus: u64 = workers.iter().map(|(_, w)| u64::from(w.spec.gpu_count)).sum();
    let gpus_where = |keep: fn(&Worker) -> bool| -> u64 {
        workers.iter().filter(|(_, w)| keep(w)).map(|(_, w)| u64::from(w.spec.gpu_count)).sum()
    };
    let suppliers = ctx.client.search::<Supplier>(&[])?;
    Ok(json!({
        "workers": workers.len(),
        "gpus_total": gpus,
        "gpus_rented": gpus_where(Worker::is_leased),
        "gpus_available": gpus_where(Worker::is_bookable),
        "suppliers": suppliers.len(),
        "staked_total": suppliers.iter().map(|(_, s)| s.staked).sum::<u64>(),
    }))
}
