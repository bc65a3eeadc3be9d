//! Graceful shutdown: calls in flight when the stop is requested finish, and a
//! call that never ends is cut once the drain bound has passed.

use std::time::{Duration, Instant};

use exportctl_tests::{classifier_client, gallium_nitride_classify, start_classifier};

#[tokio::test]
async fn in_flight_calls_finish_after_the_stop_is_requested() {
    let server = start_classifier(exportctl_classifier::Config {
        drain: Duration::from_secs(20),
        ..Default::default()
    })
    .await;
    let mut client = classifier_client(&server).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut stream = client
        .classify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(gallium_nitride_classify()).await.unwrap();
    assert!(stream.message().await.unwrap().is_some());

    let started = Instant::now();
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "the server stopped with a call in flight"
    );
    // The call in flight is still served, and the server stops once it ends.
    tx.send(gallium_nitride_classify()).await.unwrap();
    assert!(stream.message().await.unwrap().is_some());
    drop(tx);
    assert!(stream.message().await.unwrap().is_none());
    stopping.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "drain took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_call_that_never_ends_is_cut_after_the_drain_bound() {
    let server = start_classifier(exportctl_classifier::Config {
        drain: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut client = classifier_client(&server).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut stream = client
        .classify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(gallium_nitride_classify()).await.unwrap();
    assert!(stream.message().await.unwrap().is_some());
    let server_addr = server.addr;
    let started = Instant::now();
    server.stop().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(5),
        "stopped after {took:?}"
    );
    // The listener is closed: nothing new is accepted. (Connections the server
    // spawned end with the process; in a test they outlive the server future.)
    let addr = server_addr;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after the drain bound"
    );
    drop(tx);
}
