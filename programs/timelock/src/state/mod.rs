pub mod config;
pub mod supplier;
pub mod worker;

pub use config::*;
pub use supplier::*;
pub use worker::*;
