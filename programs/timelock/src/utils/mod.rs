//! Helpers shared by instructions that are not instructions themselves.

pub mod incentives;
pub(crate) mod token;
