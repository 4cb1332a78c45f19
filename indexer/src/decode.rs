//! From what the chain returns to what the store writes: the program's events, read from the `emit_cpi!`
//! self-invocations among a transaction's inner instructions, and its accounts, decoded with the program's own
//! types (nothing here re-declares a layout).

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AnchorDeserialize, Discriminator};
use timelock::events;
use timelock::state::{Cluster, Config, Lease, Supplier, Worker};

/// One instruction run by a transaction's top-level instruction `outer_index`.
#[derive(Clone, Debug)]
pub struct InnerInstruction {
    pub outer_index: u16,
    pub program_id: Pubkey,
    pub data: Vec<u8>,
}

/// A successful transaction that touched the program, as any source delivers it.
#[derive(Clone, Debug)]
pub struct TransactionRecord {
    pub signature: String,
    pub slot: u64,
    pub block_time: Option<i64>,
    pub inner_instructions: Vec<InnerInstruction>,
}

macro_rules! program_events {
    ($($name:ident),* $(,)?) => {
        /// Every event the program emits.
        pub enum ProgramEvent { $($name(events::$name)),* }

        impl ProgramEvent {
            /// Decodes an event self-CPI's instruction data (tag, event discriminator, Borsh body).
            pub fn decode(data: &[u8]) -> Option<Self> {
                let body = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)?;
                let (discriminator, mut rest) = body.split_at_checked(8)?;
                $(
                    if discriminator == events::$name::DISCRIMINATOR {
                        return events::$name::deserialize(&mut rest).ok().map(Self::$name);
                    }
                )*
                None
            }

            pub fn name(&self) -> &'static str {
                match self { $(Self::$name(_) => stringify!($name)),* }
            }
        }
    };
}

program_events!(
    ConfigInitialized,
    ConfigUpdated,
    AdminTransferProposed,
    AdminTransferred,
    PauseChanged,
    SupplierRegistered,
    StakeChanged,
    WorkerRegistered,
    WorkerGpusBound,
    WorkerUpdated,
    WorkerAvailabilityChanged,
    WorkerDeregistered,
    WorkerUnjailed,
    ClusterCreated,
    LeasesBooked,
    ClusterExtended,
    LeaseRemoved,
    ClusterEnded,
    ClusterClosed,
    LeasesAttested,
    LeaseSettled,
    DisputeOpened,
    DisputeResolved,
    DisputeVerdictGiven,
    DisputeLapsed,
    EarningsClaimed,
    IncentivesChanged,
    IncentivesClaimed,
);

/// An event with where it happened: unique by (signature, instruction, event index within the instruction).
pub struct EventRecord {
    pub signature: String,
    pub slot: u64,
    pub block_time: Option<i64>,
    pub ix_index: u16,
    pub event_index: u16,
    pub event: ProgramEvent,
    pub data: Vec<u8>,
}

/// The events of the program deployed at `program` (the indexer's configured `program_id`, which need not be the
/// id compiled in) in a transaction, in execution order. Only the program can sign for its event authority, so
/// a self-invocation carrying the event tag in a successful transaction is the program's own.
pub fn events_of(transaction: &TransactionRecord, program: &Pubkey) -> Vec<EventRecord> {
    let mut found = Vec::new();
    let mut previous_outer = None;
    let mut event_index = 0u16;
    for inner in &transaction.inner_instructions {
        if inner.program_id != *program {
            continue;
        }
        let Some(event) = ProgramEvent::decode(&inner.data) else { continue };
        if previous_outer != Some(inner.outer_index) {
            previous_outer = Some(inner.outer_index);
            event_index = 0;
        }
        found.push(EventRecord {
            signature: transaction.signature.clone(),
            slot: transaction.slot,
            block_time: transaction.block_time,
            ix_index: inner.outer_index,
            event_index,
            event,
            data: inner.data.clone(),
        });
        event_index += 1;
    }
    found
}

/// A program account's state at a slot; `data: None` when the account was closed.
#[derive(Clone, Debug)]
pub struct AccountRecord {
    pub address: Pubkey,
    pub slot: u64,
    pub data: Option<Vec<u8>>,
}

#[derive(Clone, Debug)]
pub enum ProgramAccount {
    Config(Box<Config>),
    Supplier(Supplier),
    Worker(Worker),
    Cluster(Cluster),
    Lease(Box<Lease>),
}

impl ProgramAccount {
    /// The account's decoded state, or `None` for account types the indexer does not mirror (incentive
    /// bookkeeping) and for data that is not a program account.
    pub fn decode(data: &[u8]) -> Option<Self> {
        fn read<T: AccountDeserialize>(data: &[u8]) -> Option<T> {
            T::try_deserialize(&mut &data[..]).ok()
        }
        let discriminator = data.get(..8)?;
        if discriminator == Config::DISCRIMINATOR {
            read(data).map(|c| Self::Config(Box::new(c)))
        } else if discriminator == Supplier::DISCRIMINATOR {
            read(data).map(Self::Supplier)
        } else if discriminator == Worker::DISCRIMINATOR {
            read(data).map(Self::Worker)
        } else if discriminator == Cluster::DISCRIMINATOR {
            read(data).map(Self::Cluster)
        } else if discriminator == Lease::DISCRIMINATOR {
            read(data).map(|l| Self::Lease(Box::new(l)))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use anchor_lang::Event;

    use super::*;

    #[test]
    fn events_are_read_from_the_configured_program_not_the_compiled_in_id() {
        let deployed = Pubkey::new_unique();
        let event = events::WorkerUnjailed { worker: Pubkey::new_unique(), timestamp: 1_800_000_000 };
        let data = [anchor_lang::event::EVENT_IX_TAG_LE, &event.data()].concat();
        let transaction = TransactionRecord {
            signature: "s".into(),
            slot: 1,
            block_time: None,
            inner_instructions: vec![InnerInstruction { outer_index: 0, program_id: deployed, data }],
        };
        let found = events_of(&transaction, &deployed);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].event.name(), "WorkerUnjailed");
        assert!(events_of(&transaction, &timelock::ID).is_empty(), "another program's self-CPI is not ours");
    }
}
