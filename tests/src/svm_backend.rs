//! The SDK's [`Backend`] over LiteSVM, so that the client and the CLI run against the real .so in tests.

use std::sync::Mutex;

use anchor_lang::prelude::{Clock, Pubkey};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_transaction::Transaction;
use timelock_sdk::client::{Backend, ClientError, Memcmp, Result, Simulation};

pub struct SvmBackend<'a> {
    pub svm: Mutex<&'a mut LiteSVM>,
}

impl<'a> SvmBackend<'a> {
    pub fn new(svm: &'a mut LiteSVM) -> Self {
        SvmBackend { svm: Mutex::new(svm) }
    }
}

impl Backend for SvmBackend<'_> {
    fn get_multiple_accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>> {
        let svm = self.svm.lock().unwrap();
        Ok(addresses.iter().map(|a| svm.get_account(a).filter(|acc| acc.lamports > 0)).collect())
    }

    fn get_program_accounts(&self, program: &Pubkey, filters: &[Memcmp]) -> Result<Vec<(Pubkey, Account)>> {
        let svm = self.svm.lock().unwrap();
        Ok(svm
            .get_program_accounts(program)
            .into_iter()
            .filter(|(_, account)| {
                filters.iter().all(|f| account.data.get(f.offset..f.offset + f.bytes.len()) == Some(&f.bytes[..]))
            })
            .collect())
    }

    fn latest_blockhash(&self) -> Result<solana_hash::Hash> {
        Ok(self.svm.lock().unwrap().latest_blockhash())
    }

    fn simulate(&self, transaction: &Transaction) -> Result<Simulation> {
        // Like RPC `simulateTransaction` with `sigVerify: false`: the probe is unsigned.
        let probe = self.svm.lock().unwrap().clone().with_sigverify(false);
        Ok(match probe.simulate_transaction(transaction.clone()) {
            Ok(info) => {
                Simulation { units_consumed: info.meta.compute_units_consumed, error: None, logs: info.meta.logs }
            }
            Err(failed) => Simulation {
                units_consumed: failed.meta.compute_units_consumed,
                error: Some(format!("{:?}", failed.err)),
                logs: failed.meta.logs,
            },
        })
    }

    fn send_and_confirm(&self, transaction: &Transaction) -> Result<solana_signature::Signature> {
        match self.svm.lock().unwrap().send_transaction(transaction.clone()) {
            Ok(meta) => Ok(meta.signature),
            Err(failed) if failed.err == solana_transaction_error::TransactionError::BlockhashNotFound => {
                Err(ClientError::Expired(1))
            }
            Err(failed) => Err(ClientError::Transaction { error: format!("{:?}", failed.err), logs: failed.meta.logs }),
        }
    }

    fn unix_timestamp(&self) -> Result<i64> {
        Ok(self.svm.lock().unwrap().get_sysvar::<Clock>().unix_timestamp)
    }
}
