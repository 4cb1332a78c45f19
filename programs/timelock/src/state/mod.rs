pub mod cluster;
pub mod config;
pub mod lease;
pub mod supplier;
pub mod worker;

pub use cluster::*;
pub use config::*;
pub use lease::*;
pub use supplier::*;
pub use worker::*;
