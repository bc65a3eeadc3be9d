//! The classifier's pack scope and its computer entries, through the engine: an item
//! outside a pack's scope is INDETERMINATE, never NO_LICENSE_REQUIRED.

use super::*;
use exportctl_proto::classifier::{Parameter, parameter};

#[test]
fn software_outside_the_us_pack_is_indeterminate_not_cleared() {
    for kind in [ItemKind::Software, ItemKind::Technology] {
        for destination in ["CN", "DE"] {
            let d = ship("US", destination, "2024-03-01")
                .item(spec(kind), "US")
                .decide();
            d.expect(US, Indeterminate);
            let open = d
                .dets(US)
                .into_iter()
                .find(|x| x.outcome == Outcome::Indeterminate)
                .expect("an indeterminate determination");
            assert_eq!(open.entry_ids, ["OUTSIDE-PACK-SCOPE"], "{}", d.dump());
        }
    }
}

#[test]
fn eight_gpu_server_to_china_is_not_cleared() {
    let mut server = spec(ItemKind::Computer);
    for (name, x) in [
        ("contained_ic_tpp", 15832.0),
        ("contained_ic_performance_density", 19.4),
        ("contained_ic_transfer_rate_gbps", 900.0),
        ("adjusted_peak_performance_wt", 60.0),
    ] {
        server.parameters.push(Parameter {
            name: name.into(),
            value: Some(parameter::Value::Number(x)),
            unit: String::new(),
        });
    }
    server.parameters.push(Parameter {
        name: "mass_market_encryption".into(),
        value: Some(parameter::Value::Flag(true)),
        unit: String::new(),
    });
    let d = ship("US", "CN", "2024-03-01").item(server, "US").decide();
    assert_ne!(d.outcome(US), Outcome::NoLicenseRequired, "{}", d.dump());
    assert!(
        d.dets(US)
            .iter()
            .any(|x| x.entry_ids.iter().any(|e| e == "4A090.a")),
        "{}",
        d.dump()
    );
}
