//! exportctl's pure domain, shared by both services: nothing here knows of
//! gRPC, async runtimes or storage, so the compiler keeps transport out of the
//! rules.
//!
//! - [`dates`], [`pack`]: calendar dates as the contracts carry them, and what
//!   every rule or policy pack shares (errors, confidence, validity, reading a
//!   pack directory).
//! - [`classify`]: a product spec to control-list entries in every regime.
//! - [`decide`]: a shipment and its lines' classifications to per-line,
//!   per-regime determinations.

pub mod classify;
pub mod country;
pub mod dates;
pub mod decide;
pub mod digest;
pub mod pack;
pub mod validate;
