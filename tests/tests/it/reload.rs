//! Hot reload: a changed pack directory is picked up (by polling and on SIGHUP),
//! a bad pack is rejected while the previous set keeps serving, and calls in
//! flight keep the set they started with.

use std::path::{Path, PathBuf};
use std::time::Duration;

use exportctl_proto::classifier as pb;
use exportctl_tests::{classifier_client, gallium_nitride_classify, start_classifier};

fn rules_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("exportctl-reload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("vocabulary.toml"),
        exportctl_classifier::bundled::VOCABULARY,
    )
    .unwrap();
    for (file, text) in exportctl_classifier::bundled::PACKS {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

async fn digest(
    client: &mut exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient<
        tonic::transport::Channel,
    >,
) -> String {
    client
        .describe_rules(pb::DescribeRulesRequest {})
        .await
        .unwrap()
        .into_inner()
        .rules_digest
}

fn gan() -> pb::ClassifyRequest {
    pb::ClassifyRequest {
        regimes: vec!["CN-ECL".into()],
        ..gallium_nitride_classify()
    }
}

#[tokio::test]
async fn changed_packs_reload_and_bad_packs_are_rejected() {
    let dir = rules_dir("poll");
    let server = start_classifier(exportctl_classifier::Config {
        rules: Some(dir.clone()),
        reload_interval: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let mut client = classifier_client(&server).await;
    let before = digest(&mut client).await;
    let entries = |r: &pb::ClassifyResponse| {
        r.regimes[0]
            .matches
            .iter()
            .map(|m| m.entry_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entries(&client.classify(gan()).await.unwrap().into_inner()),
        ["2023-23.gallium"]
    );

    // Gallium nitride leaves the gallium entry: the new set must be picked up.
    edit(
        &dir,
        "cn-ecl.toml",
        "gallium_metal, gallium_nitride,",
        "gallium_metal,",
    );
    let mut after = before.clone();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = digest(&mut client).await;
        if after != before {
            break;
        }
    }
    assert_ne!(after, before, "the changed pack was not reloaded");
    let resp = client.classify(gan()).await.unwrap().into_inner();
    assert_eq!(resp.rules_digest, after);
    assert!(entries(&resp).is_empty());

    // A bad pack is refused: the previous set keeps serving.
    edit(&dir, "cn-ecl.toml", "kind = material", "kind = materiel");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(digest(&mut client).await, after);
    assert_eq!(
        client
            .classify(gan())
            .await
            .unwrap()
            .into_inner()
            .rules_digest,
        after
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn sighup_reloads_and_streams_keep_their_snapshot() {
    // Our own handler first, so a SIGHUP can never take the default action (exit).
    let mut _hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).unwrap();
    let dir = rules_dir("hup");
    let server = start_classifier(exportctl_classifier::Config {
        rules: Some(dir.clone()),
        reload_interval: Duration::from_secs(3600),
        ..Default::default()
    })
    .await;
    let mut client = classifier_client(&server).await;
    let before = digest(&mut client).await;

    // A stream opened before the reload answers from the set it started with.
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut stream = client
        .classify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(gan()).await.unwrap();
    assert_eq!(
        stream.message().await.unwrap().unwrap().rules_digest,
        before
    );

    edit(
        &dir,
        "cn-ecl.toml",
        "gallium_metal, gallium_nitride,",
        "gallium_metal,",
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        digest(&mut client).await,
        before,
        "reloaded without a signal or a poll"
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut after = before.clone();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = digest(&mut client).await;
        if after != before {
            break;
        }
    }
    assert_ne!(after, before, "SIGHUP did not reload");
    tx.send(gan()).await.unwrap();
    let late = stream.message().await.unwrap().unwrap();
    assert_eq!(late.rules_digest, before);
    assert_eq!(late.regimes[0].matches[0].entry_id, "2023-23.gallium");
    drop(tx);
    std::fs::remove_dir_all(&dir).ok();
}
