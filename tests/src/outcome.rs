//! What a sent transaction leaves behind: [`Landed`] or [`Failed`], and the [`Recorded`] journal entry.

use anchor_lang::prelude::Pubkey;
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

/// A transaction that landed: its compute units, logs and inner instructions' data.
#[derive(Debug)]
pub struct Landed {
    pub compute_units: u64,
    pub logs: Vec<String>,
    pub inner_instruction_data: Vec<Vec<u8>>,
}

impl Landed {
    /// Events of type `E` emitted with `emit_cpi!`, decoded from the self-invocations' data.
    pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(&self) -> Vec<E> {
        let tag = anchor_lang::event::EVENT_IX_TAG_LE;
        self.inner_instruction_data
            .iter()
            .filter_map(|data| data.strip_prefix(tag)?.strip_prefix(E::DISCRIMINATOR))
            .map(|mut body| E::deserialize(&mut body).expect("event decodes"))
            .collect()
    }

    #[track_caller]
    pub fn event<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(&self) -> E {
        let mut events = self.events::<E>();
        assert_eq!(events.len(), 1, "expected exactly one event");
        events.remove(0)
    }
}

/// A transaction that failed: the runtime's error and the logs up to the failure.
#[derive(Debug)]
pub struct Failed {
    pub error: TransactionError,
    pub logs: Vec<String>,
}

impl Failed {
    /// The custom program error code of the failing instruction, if it failed with one.
    pub fn custom_code(&self) -> Option<u32> {
        match &self.error {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }
}

pub type SendResult = Result<Landed, Failed>;

/// A landed transaction as an indexer sees it: its program-emitted inner instructions and, right after it, the
/// state of every account it referenced (`None`: not a live program account).
pub struct Recorded {
    pub signature: String,
    pub slot: u64,
    pub unix_timestamp: i64,
    /// (top-level instruction index, program id, data) of each inner instruction.
    pub inner: Vec<(u16, Pubkey, Vec<u8>)>,
    pub accounts: Vec<(Pubkey, Option<Vec<u8>>)>,
}
