//! Service plumbing shared by the exportctl services: server bootstrap with
//! health checking and reflection, logging, shutdown signals and rich `google.rpc` errors.

pub mod auth;
pub mod decode;
pub mod edge;
pub mod errors;
pub mod methods;
pub mod metrics;
pub mod reload;
pub mod server;
pub mod shared;
pub mod shed;
pub mod telemetry;
pub mod tls;
pub mod trace;
pub mod transport;

pub use errors::FieldViolation;
