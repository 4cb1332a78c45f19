//! Rentals as stories: book → attest → settle → end → refund → close, and every way they can go wrong.

mod attestation;
mod booking;
mod disputes;
mod settlement;
mod slashing_and_incentives;
mod workload;

use anchor_lang::error::ErrorCode as AnchorError;
use timelock::events::{LeaseSettled, LeasesAttested, LeasesBooked};
use timelock_sdk::{ix, pda};
use timelock_tests::story::*;
use timelock_tests::*;
