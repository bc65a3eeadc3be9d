//! What the tests that run the `licensing` binary share.

use std::net::SocketAddr;
use std::time::Duration;

use exportctl_proto::licensing::licensing_service_server::SERVICE_NAME;
use tonic::transport::Endpoint;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A loopback address with a port free right now.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// Whether the server on `addr` serves the licensing service: it answers
/// SERVING, or NOT_SERVING while its classifier is down (the ledger tests
/// give it none), either once it is bound past its ledger checks.
pub async fn serving(addr: SocketAddr) -> bool {
    let Ok(channel) = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
    else {
        return false;
    };
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: SERVICE_NAME.into(),
        })
        .await;
    matches!(answer, Ok(r) if [ServingStatus::Serving as i32, ServingStatus::NotServing as i32].contains(&r.get_ref().status))
}
