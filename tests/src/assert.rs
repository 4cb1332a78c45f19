//! Assertions on a transaction's outcome: the exact Anchor error, `init` refusals, runtime errors.

use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

use crate::{Failed, SendResult, TimelockError};

/// Anything that names an Anchor error code: the program's own errors and Anchor's framework errors.
pub trait ErrorCodeOf {
    fn code(self) -> u32;
}

impl ErrorCodeOf for TimelockError {
    fn code(self) -> u32 {
        anchor_lang::error::ERROR_CODE_OFFSET + self as u32
    }
}

impl ErrorCodeOf for anchor_lang::error::ErrorCode {
    fn code(self) -> u32 {
        self.into()
    }
}

/// Asserts that a transaction failed with exactly `expected` (an Anchor error code), showing logs otherwise.
#[track_caller]
pub fn assert_error(result: SendResult, expected: impl ErrorCodeOf + std::fmt::Debug + Copy) {
    match result {
        Ok(landed) => panic!("expected {expected:?}, transaction landed: {:#?}", landed.logs),
        Err(failed) => assert_eq!(
            failed.custom_code(),
            Some(expected.code()),
            "expected {expected:?}, got {:?}\n{:#?}",
            failed.error,
            failed.logs
        ),
    }
}

/// Asserts that `init` refused an account that already exists: the system program's `AccountAlreadyInUse`
/// (custom error 0) with its log line.
#[track_caller]
pub fn assert_already_in_use(result: SendResult) {
    let failed = result.expect_err("re-initialisation must fail");
    assert_eq!(failed.custom_code(), Some(0), "{:#?}", failed.logs);
    assert!(failed.logs.iter().any(|l| l.contains("already in use")), "{:#?}", failed.logs);
}

/// Asserts that the runtime (not the program) refused the transaction with `expected`.
#[track_caller]
pub fn assert_runtime_error(result: SendResult, expected: InstructionError) {
    match result {
        Ok(landed) => panic!("expected {expected:?}, transaction landed: {:#?}", landed.logs),
        Err(Failed { error: TransactionError::InstructionError(_, got), logs }) => {
            assert_eq!(got, expected, "{logs:#?}")
        }
        Err(failed) => panic!("expected {expected:?}, got {:?}", failed.error),
    }
}
