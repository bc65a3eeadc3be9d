//! Writes the committed seed corpora under `fuzz/seeds/<target>/`: for
//! `rule_pack`, a classifier pack with criteria nested to the limit (the
//! bundled packs themselves are not copied here: `scripts/fuzz.sh` seeds the
//! working corpus from the live `classifier/rules` and `licensing/policy`
//! each run); for `classify_request` and `decide_request`, a few valid encoded
//! requests (from the acceptance scenarios, tests/corpus/scenarios.yaml).
//! Every seed is checked to parse or pass validation, so the fuzzer starts
//! from inputs that reach the engines.
//!
//! Run from `fuzz/`: `cargo run --example gen_seeds`.

use std::path::{Path, PathBuf};

use exportctl_classifier::convert::classify_query;
use exportctl_classifier::pack::RulePack;
use exportctl_licensing::convert::decide_query;
use exportctl_proto::classifier::{self as cpb, ItemKind, Parameter, ProductSpec, parameter};
use exportctl_proto::licensing::{self as lpb, EndUse, LineItem, Party, PreClassifiedEntry};
use prost::Message;

fn dir(target: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    std::fs::create_dir_all(&d).expect("create seed dir");
    d
}

fn spec(kind: ItemKind, f: impl FnOnce(&mut ProductSpec)) -> ProductSpec {
    let mut s = ProductSpec {
        kind: kind as i32,
        ..Default::default()
    };
    f(&mut s);
    s
}

fn specs() -> Vec<(&'static str, ProductSpec, &'static str)> {
    vec![
        (
            "euv-resist",
            spec(ItemKind::Material, |s| {
                s.material = "photoresist".into();
                s.resist_tone = "positive".into();
                s.wavelength_nm = Some(13.5);
            }),
            "2019-07-05",
        ),
        (
            "hf",
            spec(ItemKind::Material, |s| {
                s.material = "hydrogen_fluoride".into();
                s.concentration_percent = Some(99.999);
            }),
            "2019-08-15",
        ),
        (
            "gpu",
            spec(ItemKind::IntegratedCircuit, |s| {
                s.tpp = Some(4992.0);
                s.transfer_rate_gbps = Some(400.0);
                s.performance_density = Some(6.0);
                s.sku = "A800".into();
                s.description = "datacenter GPU".into();
            }),
            "2023-12-01",
        ),
        (
            "arf-immersion",
            spec(ItemKind::Equipment, |s| {
                s.equipment_function = "lithography".into();
                s.wavelength_nm = Some(193.0);
                s.numerical_aperture = Some(1.35);
                s.dedicated_chuck_overlay_nm = Some(1.4);
                s.model = "NXT:2000i".into();
            }),
            "2023-09-02",
        ),
        (
            "etch-params",
            spec(ItemKind::Equipment, |s| {
                s.equipment_function = "etch".into();
                s.parameters = vec![
                    Parameter {
                        name: "isotropic".into(),
                        value: Some(parameter::Value::Flag(true)),
                        unit: String::new(),
                    },
                    Parameter {
                        name: "pre_clean_chamber".into(),
                        value: Some(parameter::Value::Flag(false)),
                        unit: String::new(),
                    },
                ];
            }),
            "2023-11-17",
        ),
        (
            "dram",
            spec(ItemKind::IntegratedCircuit, |s| {
                s.memory_type = "dram".into();
                s.manufacturer = "Micron Technology".into();
                s.dram_half_pitch_nm = Some(18.0);
            }),
            "2023-05-22",
        ),
        (
            "gan",
            spec(ItemKind::Material, |s| {
                s.material = "gallium_nitride".into()
            }),
            "2023-08-02",
        ),
    ]
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let path = dir(target).join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[allow(clippy::too_many_arguments)]
fn decide(
    id: &str,
    export: &str,
    destination: &str,
    end_user: &str,
    end_use: EndUse,
    lines: Vec<LineItem>,
    as_of: &str,
) -> lpb::DecideRequest {
    lpb::DecideRequest {
        request_id: format!("seed-{id}"),
        export_country: export.into(),
        destination_country: destination.into(),
        end_user: Some(Party {
            name: end_user.into(),
            country: destination.into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: Some(end_use),
        lines,
        as_of: as_of.into(),
        ..Default::default()
    }
}

fn line(id: &str, origin: &str, spec: Option<ProductSpec>, entries: &[(&str, &str)]) -> LineItem {
    LineItem {
        line_id: id.into(),
        spec,
        origin_country: origin.into(),
        quantity: 1.0,
        value: 1000.0,
        currency: "USD".into(),
        entries: entries
            .iter()
            .map(|(r, e)| PreClassifiedEntry {
                regime: (*r).into(),
                entry_id: (*e).into(),
            })
            .collect(),
        ..Default::default()
    }
}

fn main() {
    let rules = exportctl_classifier::RuleSet::bundled().expect("rules");
    let policies = exportctl_licensing::PolicySet::bundled().expect("policies");

    // rule_pack: the bundled files themselves are copied from classifier/rules
    // and licensing/policy by scripts/fuzz.sh at run time (one home for them).
    // A criteria nested to the limit (`criteria::MAX_NESTING`): the fuzzer
    // mutates from there into over-deep ones, which must be refused, not overflow the stack.
    let (_, cn) = exportctl_classifier::bundled::PACKS
        .iter()
        .find(|(file, _)| *file == "cn-ecl.toml")
        .expect("cn-ecl.toml");
    let start = cn.find("criteria = \"").expect("criteria") + "criteria = \"".len();
    let end = start + cn[start..].find('"').expect("closing quote");
    let n = exportctl_classifier::criteria::MAX_NESTING;
    let deep = format!(
        "{}{}{}{}{}",
        &cn[..start],
        "(".repeat(n),
        &cn[start..end],
        ")".repeat(n),
        &cn[end..]
    );
    RulePack::parse("cn-ecl.toml", &deep, rules.vocabulary()).expect("nested seed parses");
    write("rule_pack", "classifier-deep-nesting.toml", deep.as_bytes());

    // classify_request: each spec, on its scenario date, in all regimes or one.
    for (i, (name, spec, as_of)) in specs().into_iter().enumerate() {
        let req = cpb::ClassifyRequest {
            spec: Some(spec),
            as_of: as_of.into(),
            regimes: if i % 2 == 0 {
                Vec::new()
            } else {
                vec!["US-EAR".into(), "JP-FEFTA".into()]
            },
        };
        classify_query(&req, &rules).unwrap_or_else(|v| panic!("seed {name}: {v:?}"));
        write(
            "classify_request",
            &format!("{name}.bin"),
            &req.encode_to_vec(),
        );
    }

    // decide_request: shipments from the scenarios, with specs and pre-classified entries.
    let s = |n: &str| {
        specs()
            .into_iter()
            .find(|(name, _, _)| *name == n)
            .expect("spec")
            .1
    };
    let civil = || EndUse {
        purpose: "civil".into(),
        ..Default::default()
    };
    let requests = vec![
        decide(
            "jp-resist-kr",
            "JP",
            "KR",
            "Samsung Electronics Co., Ltd.",
            EndUse {
                ic_production: Some(true),
                ..civil()
            },
            vec![line("10", "JP", Some(s("euv-resist")), &[])],
            "2019-07-05",
        ),
        decide(
            "us-gpu-cn",
            "US",
            "CN",
            "Example Cloud Co.",
            civil(),
            vec![
                line("10", "US", Some(s("gpu")), &[]),
                line("20", "US", None, &[("US-EAR", "3A090.a")]),
                line("30", "US", None, &[("US-EAR", "EAR99")]),
            ],
            "2023-12-01",
        ),
        decide(
            "us-smic",
            "US",
            "CN",
            "Semiconductor Manufacturing International (Beijing) Corporation",
            civil(),
            vec![line(
                "10",
                "US",
                Some(spec(ItemKind::Other, |s| {
                    s.description = "stainless vacuum valves".into()
                })),
                &[],
            )],
            "2020-12-19",
        ),
        decide(
            "us-chemical-fab",
            "US",
            "CN",
            "Example Logic Fab Co.",
            EndUse {
                ic_production: Some(true),
                fab_logic_node_nm: Some(16.0),
                fab_transistor_architecture: "finfet".into(),
                fab_owner_headquarters: "CN".into(),
                fab_dram_half_pitch_nm: Some(18.0),
                fab_nand_layers: Some(128),
                ..civil()
            },
            vec![line(
                "10",
                "US",
                Some(spec(ItemKind::Material, |s| {
                    s.material = "wet_clean_chemical".into()
                })),
                &[],
            )],
            "2023-03-01",
        ),
        decide(
            "nl-litho-cn",
            "NL",
            "CN",
            "Example Foundry (Shanghai) Co.",
            EndUse {
                ic_production: Some(true),
                ..civil()
            },
            vec![
                line("10", "NL", Some(s("arf-immersion")), &[]),
                line("20", "US", Some(s("etch-params")), &[]),
            ],
            "2023-09-02",
        ),
        decide(
            "cn-gan-jp",
            "CN",
            "JP",
            "Example RF Devices K.K.",
            civil(),
            vec![line("10", "CN", Some(s("gan")), &[])],
            "2023-08-02",
        ),
        decide(
            "us-micron-cii",
            "US",
            "CN",
            "Example Provincial Telecom Co.",
            EndUse {
                critical_infrastructure_operator: Some(true),
                ..civil()
            },
            vec![line("10", "US", Some(s("dram")), &[])],
            "2023-05-22",
        ),
    ];
    for req in requests {
        decide_query(&req, &policies).unwrap_or_else(|v| panic!("seed {}: {v:?}", req.request_id));
        write(
            "decide_request",
            &format!("{}.bin", req.request_id),
            &req.encode_to_vec(),
        );
    }
    println!("seeds written under {}", dir("").display());
}
