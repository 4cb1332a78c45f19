//! Helpers shared by instructions that are not instructions themselves.

pub(crate) mod dispute;
pub mod incentives;
pub mod keys;
pub(crate) mod token;
