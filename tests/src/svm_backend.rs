//! The SDK's [`Backend`] over LiteSVM, so that the client, the CLI and the services run against the real .so in
//! tests. It borrows a LiteSVM (`&mut LiteSVM`) for one story, or owns a whole [`TestFixture`] shared with a
//! running service, which the test keeps driving through [`SvmBackend::lock`].

use std::borrow::BorrowMut;
use std::sync::{Mutex, MutexGuard};

use anchor_lang::prelude::{Clock, Pubkey};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_transaction::versioned::VersionedTransaction;
use timelock_sdk::client::{Backend, ClientError, Memcmp, Result, Simulation};

pub struct SvmBackend<S> {
    inner: Mutex<S>,
    /// Refuses v0 transactions, as an RPC node that does not take them would (tests of the oracle's fallback).
    pub refuse_v0: std::sync::atomic::AtomicBool,
}

impl<S: BorrowMut<LiteSVM>> SvmBackend<S> {
    pub fn new(inner: S) -> Self {
        SvmBackend { inner: Mutex::new(inner), refuse_v0: Default::default() }
    }

    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn svm(&self) -> impl std::ops::DerefMut<Target = LiteSVM> + '_ {
        struct Svm<'g, S>(MutexGuard<'g, S>);
        impl<S: BorrowMut<LiteSVM>> std::ops::Deref for Svm<'_, S> {
            type Target = LiteSVM;
            fn deref(&self) -> &LiteSVM {
                (*self.0).borrow()
            }
        }
        impl<S: BorrowMut<LiteSVM>> std::ops::DerefMut for Svm<'_, S> {
            fn deref_mut(&mut self) -> &mut LiteSVM {
                (*self.0).borrow_mut()
            }
        }
        Svm(self.lock())
    }
}

impl<S: BorrowMut<LiteSVM> + Send> Backend for SvmBackend<S> {
    fn get_multiple_accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>> {
        let svm = self.svm();
        Ok(addresses.iter().map(|a| svm.get_account(a).filter(|acc| acc.lamports > 0)).collect())
    }

    fn get_program_accounts(&self, program: &Pubkey, filters: &[Memcmp]) -> Result<Vec<(Pubkey, Account)>> {
        let svm = self.svm();
        Ok(svm
            .get_program_accounts(program)
            .into_iter()
            .filter(|(_, account)| {
                filters.iter().all(|f| account.data.get(f.offset..f.offset + f.bytes.len()) == Some(&f.bytes[..]))
            })
            .collect())
    }

    fn latest_blockhash(&self) -> Result<solana_hash::Hash> {
        Ok(self.svm().latest_blockhash())
    }

    fn simulate(&self, transaction: &VersionedTransaction) -> Result<Simulation> {
        // Like RPC `simulateTransaction` with `sigVerify: false`: the probe is unsigned.
        let probe = self.svm().clone().with_sigverify(false);
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

    fn send_and_confirm(&self, transaction: &VersionedTransaction) -> Result<solana_signature::Signature> {
        let v0 = !matches!(transaction.message, solana_message::VersionedMessage::Legacy(_));
        if v0 && self.refuse_v0.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ClientError::Transaction { error: "v0 transactions are not supported".into(), logs: vec![] });
        }
        match self.svm().send_transaction(transaction.clone()) {
            Ok(meta) => Ok(meta.signature),
            Err(failed) if failed.err == solana_transaction_error::TransactionError::BlockhashNotFound => {
                Err(ClientError::Expired(1))
            }
            Err(failed) => Err(ClientError::Transaction { error: format!("{:?}", failed.err), logs: failed.meta.logs }),
        }
    }

    fn slot(&self) -> Result<u64> {
        Ok(self.svm().get_sysvar::<Clock>().slot)
    }

    fn unix_timestamp(&self) -> Result<i64> {
        Ok(self.svm().get_sysvar::<Clock>().unix_timestamp)
    }
}
