//! What every command needs: the client, the signer, and the reads and transactions several nouns share.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::associated_token::{
    get_associated_token_address_with_program_id as ata,
    spl_associated_token_account::instruction::create_associated_token_account_idempotent as create_ata,
};
use serde_json::json;
use solana_signer::Signer;
use timelock::state::{Config, ConfigParams, Worker};
use timelock_sdk::client::{Backend, Client, ClientError, Memcmp};
use timelock_sdk::filter::{WorkerFilter, WorkerSort};
use timelock_sdk::{batch, ix, pda};

use crate::commands::worker::worker_layout;
use crate::{usage, CliError, CliResult};

pub struct Context<'a, B: Backend> {
    pub client: &'a Client<B>,
    pub signer: &'a (dyn Signer + Sync),
}

impl<B: Backend> Context<'_, B> {
    pub(crate) fn me(&self) -> Pubkey {
        self.signer.pubkey()
    }

    pub(crate) fn send(&self, instructions: Vec<Instruction>) -> CliResult {
        let signature = self.client.send(&instructions, &[self.signer])?;
        Ok(json!({ "signature": signature.to_string() }))
    }

    pub(crate) fn config(&self) -> Result<Config, ClientError> {
        self.client.account(&pda::config().0)
    }

    pub(crate) fn token_program_of(&self, mint: &Pubkey) -> Result<Pubkey, ClientError> {
        Ok(self.client.account_raw(mint)?.owner)
    }

    /// The owner's associated token account for `mint`, and an instruction creating it if it does not exist.
    pub(crate) fn ata(&self, owner: &Pubkey, mint: &Pubkey) -> Result<(Pubkey, Instruction), ClientError> {
        let program = self.token_program_of(mint)?;
        Ok((ata(owner, mint, &program), create_ata(&self.me(), owner, mint, &program)))
    }

    /// The current incentive epoch when the pool is enabled, with the caller paying for new epoch records.
    pub(crate) fn incentive_credit(&self, config: &Config) -> Result<Option<ix::IncentiveCredit>, ClientError> {
        if !config.incentives_enabled {
            return Ok(None);
        }
        let pool: timelock::state::IncentivePool = self.client.account(&pda::incentive_pool().0)?;
        let epoch = pool.epoch_at(self.client.backend.unix_timestamp()?);
        Ok(Some(ix::IncentiveCredit { epoch, payer: self.me() }))
    }

    pub(crate) fn update_params(&self, change: impl FnOnce(&mut ConfigParams)) -> CliResult {
        let mut params = self.config()?.params;
        change(&mut params);
        self.send(vec![ix::config_update(self.me(), params)])
    }

    pub(crate) fn stake_accounts(&self) -> Result<(ix::StakeAccounts, Instruction), ClientError> {
        let config = self.config()?;
        let (tokens, create) = self.ata(&self.me(), &config.stake_mint)?;
        let accounts = ix::StakeAccounts {
            authority: self.me(),
            stake_mint: config.stake_mint,
            supplier_tokens: tokens,
            token_program: self.token_program_of(&config.stake_mint)?,
        };
        Ok((accounts, create))
    }

    pub(crate) fn renter_payment(&self, cluster_id: u64) -> Result<(ix::RenterPayment, Instruction), ClientError> {
        let config = self.config()?;
        let (tokens, create) = self.ata(&self.me(), &config.payment_mint)?;
        let payment = ix::RenterPayment {
            renter: self.me(),
            cluster_id,
            payment_mint: config.payment_mint,
            renter_tokens: tokens,
            token_program: self.token_program_of(&config.payment_mint)?,
        };
        Ok((payment, create))
    }

    /// Every worker on chain that passes `filter`, in its order (the exact GPU model is matched by the RPC node,
    /// the rest on the decoded worker); `worker list` shows a page of them, `cluster create` books from all.
    pub(crate) fn find_workers(&self, filter: &WorkerFilter) -> std::result::Result<Vec<(Pubkey, Worker)>, CliError> {
        let checked = filter.check().map_err(|e| usage(e.to_string()))?;
        let prefilter: Vec<Memcmp> = checked
            .gpu_model
            .iter()
            .map(|(code, _)| Memcmp { offset: worker_layout::GPU_MODEL, bytes: code.to_le_bytes().to_vec() })
            .collect();
        let mut found: Vec<(Pubkey, Worker)> = self
            .client
            .search::<Worker>(&prefilter)?
            .into_iter()
            .filter(|(_, worker)| filter.matches(&checked, worker))
            .collect();
        // The API's order: the sort value, then the address (as text, byte-wise: the API's `COLLATE "C"`).
        // The API's order: the sort value, then the address as text, byte-wise (the API's `COLLATE "C"`); a
        // descending sort reverses both, as the API's `DESC, address DESC` does.
        found.sort_by_cached_key(|(address, w)| {
            let value = match checked.sort {
                WorkerSort::Price | WorkerSort::PriceDescending => i128::from(w.spec.price_per_gpu_hour),
                WorkerSort::GpusDescending => i128::from(w.spec.gpu_count),
                WorkerSort::RegisteredDescending => i128::from(w.registered_at),
            };
            (value, address.to_string())
        });
        if checked.sort != WorkerSort::Price {
            found.reverse();
        }
        Ok(found)
    }

    pub(crate) fn my_worker(&self, index: u32) -> std::result::Result<Worker, CliError> {
        Ok(self.client.account(&pda::worker(&pda::supplier(&self.me()).0, index).0)?)
    }

    pub(crate) fn book(&self, cluster_id: u64, workers: Vec<ix::Booking>) -> CliResult {
        let (payment, _) = self.renter_payment(cluster_id)?;
        let batches = batch::cluster_add_workers(payment, &workers);
        let total = batches.len();
        let report = self.client.send_batches_with_progress(&batches, &[self.signer], |done| {
            eprintln!("booking: {done}/{total} transactions confirmed");
        });
        if !report.is_success() {
            let failures: Vec<_> = report.failures.iter().map(|(i, e)| format!("batch {i}: {e}")).collect();
            return Err(usage(format!(
                "{} of {} booking transactions failed (booked workers stay booked; retry `cluster add` for the rest):\n{}",
                failures.len(),
                batches.len(),
                failures.join("\n")
            )));
        }
        Ok(json!({
            "cluster": payment.cluster().to_string(),
            "workers": workers.len(),
            "transactions": report.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        }))
    }
}

/// Booked on the terms listed when the worker was found: a worker whose supplier changed its price or hardware
/// since is refused by the program, not booked at the new terms.
pub(crate) fn booking_as_listed(address: &Pubkey, w: &Worker) -> ix::Booking {
    ix::Booking {
        worker: ix::WorkerRef { worker: *address, supplier: w.supplier },
        terms: timelock::BookingTerms::as_listed(&w.spec),
    }
}
