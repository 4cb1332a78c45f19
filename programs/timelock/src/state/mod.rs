pub mod cluster;
pub mod config;
pub mod device;
pub mod incentives;
pub mod lease;
pub mod supplier;
pub mod worker;

pub use cluster::*;
pub use config::*;
pub use device::*;
pub use incentives::*;
pub use lease::*;
pub use supplier::*;
pub use worker::*;
