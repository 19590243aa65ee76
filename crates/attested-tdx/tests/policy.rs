//! Appraisal policies on verified quotes (simulated platform, real quotes where they verify).
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::policy::{Hex, Profile, RtmrPin, ValueError};
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimConfig, SimPlatform, TcbLevelStatus};
use attested_tdx::{
    AppraisalError, Collateral, Policy, Quote, TcbStatus, TrustAnchor, UnixTime, VerifiedQuote,
    Verifier,
};

const NOW: u64 = 1_750_000_000;

struct Sim {
    platform: SimPlatform,
    verifier: Verifier,
    collateral: Collateral,
}

fn sim(config: SimConfig) -> Sim {
    let platform = SimPlatform::with_config(b"policy", NOW, config).unwrap();
    let collateral =
        Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap();
    let verifier = Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap());
    Sim {
        platform,
        verifier,
        collateral,
    }
}

impl Sim {
    fn spec(&self) -> QuoteSpec {
        self.spec_in(QuoteFormat::V4)
    }

    fn spec_in(&self, format: QuoteFormat) -> QuoteSpec {
        QuoteSpec {
            mr_td: [0x11; 48],
            mr_service_td: [0x5e; 48],
            rtmrs: [[0x20; 48], [0x21; 48], [0x22; 48], [0x23; 48]],
            report_data: [0x42; 64],
            td_attributes: TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE),
            ..self.platform.quote_spec(format)
        }
    }

    /// Verifies the quote of `spec` at NOW and hands the verified quote to `check`.
    fn verified<T>(&self, spec: &QuoteSpec, check: impl FnOnce(&VerifiedQuote<'_>) -> T) -> T {
        let bytes = self.platform.quote(spec).unwrap();
        let quote = Quote::parse(&bytes).unwrap();
        let verified = self
            .verifier
            .verify(&quote, &self.collateral, UnixTime(NOW))
            .unwrap();
        check(&verified)
    }

    fn appraise(&self, spec: &QuoteSpec, policy: &Policy, now: u64) -> Result<(), AppraisalError> {
        self.verified(spec, |verified| {
            policy.appraise(verified, UnixTime(now)).map(|_| ())
        })
    }
}

#[test]
fn the_default_policy_accepts_an_up_to_date_production_td() {
    let sim = sim(SimConfig::default());
    sim.appraise(&sim.spec(), &Policy::any_workload(), NOW)
        .unwrap();
}

/// The attack: a genuine TD on the same platform (same firmware, so the same MRTD) runs the
/// attacker's code. A policy that pins MRTD alone, or nothing, must not accept it silently.
#[test]
fn a_policy_that_identifies_no_workload_refuses_every_quote() {
    let sim = sim(SimConfig::default());
    let ours = sim.spec();
    let attackers = QuoteSpec {
        rtmrs: [ours.rtmrs[0], ours.rtmrs[1], ours.rtmrs[2], [0xa7; 48]],
        ..ours.clone()
    };
    let mrtd_only = Policy {
        mr_td: vec![Hex(ours.mr_td)],
        ..Policy::new()
    };
    for policy in [Policy::new(), Policy::azure(), mrtd_only.clone()] {
        for spec in [&ours, &attackers] {
            assert!(
                matches!(
                    sim.appraise(spec, &policy, NOW),
                    Err(AppraisalError::NoWorkload(_))
                ),
                "{policy:?}"
            );
        }
    }
    // MRTD and RTMR3 identify our workload: ours passes, the attacker's is refused by RTMR3.
    let pinned = Policy {
        rtmr3: Some(Hex(ours.rtmrs[3])),
        ..mrtd_only
    };
    sim.appraise(&ours, &pinned, NOW).unwrap();
    assert!(matches!(
        sim.appraise(&attackers, &pinned, NOW),
        Err(AppraisalError::Measurement { field: "RTMR3", .. })
    ));
    // MRCONFIGID alone identifies it too.
    let by_config = Policy {
        mr_config_id: Some(Hex(ours.mr_config_id)),
        ..Policy::new()
    };
    sim.appraise(&ours, &by_config, NOW).unwrap();
    // The explicit opt-out accepts both, and records that nothing was pinned.
    sim.verified(&attackers, |verified| {
        let appraised = Policy::any_workload()
            .appraise(verified, UnixTime(NOW))
            .unwrap();
        assert!(!appraised.workload().is_pinned());
    });
    sim.verified(&ours, |verified| {
        let appraised = pinned.appraise(verified, UnixTime(NOW)).unwrap();
        assert!(appraised.workload().is_pinned());
    });
}

#[test]
fn debug_tds_are_refused_by_default() {
    let sim = sim(SimConfig::default());
    let spec = QuoteSpec {
        td_attributes: TdAttributes::from_bits(TdAttributes::DEBUG | TdAttributes::SEPT_VE_DISABLE),
        ..sim.spec()
    };
    assert_eq!(
        sim.appraise(&spec, &Policy::any_workload(), NOW),
        Err(AppraisalError::Debug)
    );
    let lenient = Policy {
        allow_debug: true,
        ..Policy::any_workload()
    };
    sim.appraise(&spec, &lenient, NOW).unwrap();
}

#[test]
fn the_real_debug_td_is_refused_by_the_default_policy() {
    let Some(bytes) = attested_testdata::read("tdx/trustee/tdx_quote_4.dat") else {
        return;
    };
    let quote = Quote::parse(&bytes).unwrap();
    assert!(quote.report().td10().td_attributes().debug());
    assert_eq!(
        Policy::any_workload().check_report_unverified(quote.report()),
        Err(AppraisalError::Debug)
    );
}

#[test]
fn sept_ve_disable_is_required_except_on_azure_and_gcp() {
    let sim = sim(SimConfig::default());
    let spec = QuoteSpec {
        td_attributes: TdAttributes::from_bits(TdAttributes::PKS),
        ..sim.spec()
    };
    assert_eq!(
        sim.appraise(&spec, &Policy::any_workload(), NOW),
        Err(AppraisalError::SeptVeDisable)
    );
    for profile in [Profile::Azure, Profile::Gcp] {
        let policy = Policy {
            profile,
            ..Policy::any_workload()
        };
        sim.appraise(&spec, &policy, NOW).unwrap();
    }
    let forced = Policy {
        profile: Profile::Gcp,
        require_sept_ve_disable: Some(true),
        ..Policy::any_workload()
    };
    assert_eq!(
        sim.appraise(&spec, &forced, NOW),
        Err(AppraisalError::SeptVeDisable)
    );
}

#[test]
fn real_cloud_quotes_pass_the_attribute_checks_of_their_profiles_only() {
    // The go-tdx-guest production quote (SEPT_VE_DISABLE clear, PKS set) and an Azure quote.
    for path in [
        "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
        "tdx/trustee/az-tdx-vtpm/td-quote.bin",
    ] {
        let Some(bytes) = attested_testdata::read(path) else {
            return;
        };
        let quote = Quote::parse_allowing_trailing_data(&bytes).unwrap();
        assert_eq!(
            Policy::any_workload().check_report_unverified(quote.report()),
            Err(AppraisalError::SeptVeDisable),
            "{path}"
        );
        Policy::azure()
            .check_report_unverified(quote.report())
            .unwrap();
        Policy::gcp()
            .check_report_unverified(quote.report())
            .unwrap();
    }
}

#[test]
fn every_measurement_is_checked_and_named() {
    let sim = sim(SimConfig::default());
    let spec = sim.spec();
    let exact = Policy {
        mr_td: vec![Hex([0x99; 48]), Hex([0x11; 48])],
        rtmr0: Some(Hex([0x20; 48])),
        rtmr1: Some(Hex([0x21; 48])),
        rtmr2: Some(Hex([0x22; 48])),
        rtmr3: Some(Hex([0x23; 48])),
        mr_config_id: Some(Hex(spec.mr_config_id)),
        mr_owner: Some(Hex(spec.mr_owner)),
        mr_owner_config: Some(Hex(spec.mr_owner_config)),
        xfam: Some(Hex(spec.xfam.to_le_bytes())),
        report_data: Some(Hex([0x42; 64])),
        ..Policy::any_workload()
    };
    sim.appraise(&spec, &exact, NOW).unwrap();
    let cases: Vec<(&str, Policy)> = vec![
        (
            "MRTD",
            Policy {
                mr_td: vec![Hex([0x99; 48])],
                ..exact.clone()
            },
        ),
        (
            "RTMR0",
            Policy {
                rtmr0: Some(Hex([0; 48])),
                ..exact.clone()
            },
        ),
        (
            "RTMR1",
            Policy {
                rtmr1: Some(Hex([0; 48])),
                ..exact.clone()
            },
        ),
        (
            "RTMR2",
            Policy {
                rtmr2: Some(Hex([0; 48])),
                ..exact.clone()
            },
        ),
        (
            "RTMR3",
            Policy {
                rtmr3: Some(Hex([0; 48])),
                ..exact.clone()
            },
        ),
        (
            "MRCONFIGID",
            Policy {
                mr_config_id: Some(Hex([1; 48])),
                ..exact.clone()
            },
        ),
        (
            "MROWNER",
            Policy {
                mr_owner: Some(Hex([1; 48])),
                ..exact.clone()
            },
        ),
        (
            "MROWNERCONFIG",
            Policy {
                mr_owner_config: Some(Hex([1; 48])),
                ..exact.clone()
            },
        ),
        (
            "XFAM",
            Policy {
                xfam: Some(Hex([1; 8])),
                ..exact.clone()
            },
        ),
        (
            "REPORTDATA",
            Policy {
                report_data: Some(Hex([0x43; 64])),
                ..exact.clone()
            },
        ),
    ];
    for (name, policy) in cases {
        match sim.appraise(&spec, &policy, NOW) {
            Err(AppraisalError::Measurement { field, .. }) => assert_eq!(field, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn tcb_status_advisories_and_evaluation_number() {
    let sim = sim(SimConfig {
        tcb_status: TcbLevelStatus::OutOfDate,
        advisory_ids: vec!["INTEL-SA-00837".into()],
        tcb_evaluation_data_number: 17,
        ..SimConfig::default()
    });
    let spec = sim.spec();
    assert_eq!(
        sim.appraise(&spec, &Policy::any_workload(), NOW),
        Err(AppraisalError::TcbStatus(TcbStatus::OutOfDate))
    );
    let accepting = Policy {
        accepted_tcb_statuses: vec![TcbStatus::UpToDate, TcbStatus::OutOfDate],
        ..Policy::any_workload()
    };
    sim.appraise(&spec, &accepting, NOW).unwrap();
    let denying = Policy {
        denied_advisories: vec!["intel-sa-00837".into()],
        ..accepting.clone()
    };
    assert_eq!(
        sim.appraise(&spec, &denying, NOW),
        Err(AppraisalError::Advisory("INTEL-SA-00837".into()))
    );
    let newer = Policy {
        min_tcb_evaluation_data_number: Some(18),
        ..accepting
    };
    assert_eq!(
        sim.appraise(&spec, &newer, NOW),
        Err(AppraisalError::EvaluationDataNumber {
            item: attested_tdx::error::Item::TcbInfo,
            actual: 17,
            minimum: 18
        })
    );
}

/// The matched level's `tcbDate` of a TCB Info level list, read from the signed JSON itself.
fn level_date(levels: &serde_json::Value, matches: impl Fn(&serde_json::Value) -> bool) -> u64 {
    let level = levels
        .as_array()
        .unwrap()
        .iter()
        .find(|level| matches(level))
        .unwrap();
    UnixTime::parse_rfc3339(level["tcbDate"].as_str().unwrap())
        .unwrap()
        .0
}

#[test]
fn out_of_date_is_accepted_only_strictly_before_the_tcb_date_plus_the_grace_period() {
    let sim = sim(SimConfig {
        tcb_status: TcbLevelStatus::OutOfDate,
        ..SimConfig::default()
    });
    let spec = sim.spec();
    let tcb_info: serde_json::Value =
        serde_json::from_slice(sim.collateral.tcb_info_json()).unwrap();
    let platform_date = level_date(&tcb_info["tcbLevels"], |level| {
        level["tcbStatus"] == "OutOfDate" && level["tcb"]["pcesvn"] != 0
    });
    let tcb_date = sim.verified(&spec, |v| v.verdict().tcb_date);
    assert_eq!(tcb_date.0, platform_date);

    const GRACE: u64 = 86_400;
    let until = platform_date + GRACE;
    for listed in [false, true] {
        let grace = Policy {
            out_of_date_grace_period_secs: Some(GRACE),
            accepted_tcb_statuses: if listed {
                vec![TcbStatus::UpToDate, TcbStatus::OutOfDate]
            } else {
                vec![TcbStatus::UpToDate]
            },
            ..Policy::any_workload()
        };
        sim.appraise(&spec, &grace, until - 1).unwrap();
        let err = sim.appraise(&spec, &grace, until).unwrap_err();
        assert_eq!(
            err,
            AppraisalError::GracePeriodOver {
                status: TcbStatus::OutOfDate,
                tcb_date: UnixTime(platform_date),
                grace_secs: GRACE,
                until: UnixTime(until),
                now: UnixTime(until),
            },
            "listed: {listed}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&UnixTime(until).to_string())
                && message.contains(&UnixTime(platform_date).to_string()),
            "{message}"
        );
    }
    // Without a grace period, listing OutOfDate accepts it at any time.
    let listed = Policy {
        accepted_tcb_statuses: vec![TcbStatus::OutOfDate],
        ..Policy::any_workload()
    };
    sim.appraise(&spec, &listed, until + 365 * 86_400).unwrap();
}

#[test]
fn the_grace_period_counts_from_the_oldest_matched_level() {
    // Platform up to date, TDX module below its current SVN: the module's old level dates
    // the TCB, and makes it OutOfDate.
    let sim = sim(SimConfig::default());
    let mut spec = sim.spec();
    spec.tee_tcb_svn[0] -= 1;
    let tcb_info: serde_json::Value =
        serde_json::from_slice(sim.collateral.tcb_info_json()).unwrap();
    let module_date = level_date(&tcb_info["tdxModuleIdentities"][0]["tcbLevels"], |level| {
        level["tcb"]["isvsvn"] == 0
    });
    let platform_date = level_date(&tcb_info["tcbLevels"], |level| {
        level["tcbStatus"] == "UpToDate"
    });
    assert!(module_date < platform_date);
    let verdict = sim.verified(&spec, |v| v.verdict().clone());
    assert_eq!(verdict.tcb_status, TcbStatus::OutOfDate);
    assert_eq!(verdict.tcb_date, UnixTime(module_date));
    let grace = Policy {
        out_of_date_grace_period_secs: Some(400 * 86_400),
        ..Policy::any_workload()
    };
    let until = module_date + 400 * 86_400;
    sim.appraise(&spec, &grace, until - 1).unwrap();
    assert!(matches!(
        sim.appraise(&spec, &grace, until),
        Err(AppraisalError::GracePeriodOver { until: u, .. }) if u == UnixTime(until)
    ));
}

#[test]
fn out_of_date_configuration_needed_takes_the_grace_period_only_with_configuration_accepted() {
    let sim = sim(SimConfig {
        tcb_status: TcbLevelStatus::OutOfDateConfigurationNeeded,
        ..SimConfig::default()
    });
    let spec = sim.spec();
    let (status, tcb_date) = sim.verified(&spec, |v| (v.tcb_status(), v.verdict().tcb_date.0));
    assert_eq!(status, TcbStatus::OutOfDateConfigurationNeeded);
    let grace = Policy {
        out_of_date_grace_period_secs: Some(86_400),
        ..Policy::any_workload()
    };
    assert_eq!(
        sim.appraise(&spec, &grace, tcb_date),
        Err(AppraisalError::TcbStatus(
            TcbStatus::OutOfDateConfigurationNeeded
        ))
    );
    let with_configuration = Policy {
        accepted_tcb_statuses: vec![TcbStatus::UpToDate, TcbStatus::ConfigurationNeeded],
        ..grace
    };
    sim.appraise(&spec, &with_configuration, tcb_date + 86_399)
        .unwrap();
    assert!(matches!(
        sim.appraise(&spec, &with_configuration, tcb_date + 86_400),
        Err(AppraisalError::GracePeriodOver {
            status: TcbStatus::OutOfDateConfigurationNeeded,
            ..
        })
    ));
}

#[test]
fn mr_service_td_is_any_of_on_tdx_1_5_reports() {
    let sim = sim(SimConfig::default());
    let accepting = Policy {
        mr_service_td: vec![Hex([0x77; 48]), Hex([0x5e; 48])],
        ..Policy::any_workload()
    };
    let other = Policy {
        mr_service_td: vec![Hex([0x77; 48])],
        ..Policy::any_workload()
    };
    for format in [QuoteFormat::V5Td15, QuoteFormat::V5Td15Ext] {
        let spec = sim.spec_in(format);
        let reported = sim.verified(&spec, |v| *v.report().mr_service_td().unwrap());
        assert_eq!(reported, spec.mr_service_td);
        sim.appraise(&spec, &accepting, NOW).unwrap();
        assert_eq!(
            sim.appraise(&spec, &other, NOW),
            Err(AppraisalError::Measurement {
                field: "MR_SERVICETD",
                expected: hex::encode([0x77; 48]),
                actual: hex::encode(reported),
            }),
            "{format:?}"
        );
    }
    // TDX 1.0 reports (v4, v5 body type 2) have no MR_SERVICETD: a policy that names one
    // refuses them.
    for format in [QuoteFormat::V4, QuoteFormat::V5Td10] {
        match sim.appraise(&sim.spec_in(format), &accepting, NOW) {
            Err(AppraisalError::Measurement { field, actual, .. }) => {
                assert_eq!(field, "MR_SERVICETD");
                assert!(actual.contains("absent"), "{actual}");
            }
            other => panic!("{format:?}: {other:?}"),
        }
        sim.appraise(&sim.spec_in(format), &Policy::any_workload(), NOW)
            .unwrap();
    }
}

#[test]
fn policies_load_from_json_and_toml() {
    let mr_td = "ab".repeat(48);
    let mr_service_td = "cd".repeat(48);
    let json = format!(
        r#"{{"profile":"azure","mr_td":["{mr_td}"],"rtmr1":"{mr_td}","mr_service_td":["{mr_service_td}"],"accepted_tcb_statuses":["UpToDate","SWHardeningNeeded"],"denied_advisories":["INTEL-SA-00837"],"min_tcb_evaluation_data_number":17,"out_of_date_grace_period_secs":3600}}"#
    );
    let toml = format!(
        "profile = \"azure\"\nmr_td = [\"{mr_td}\"]\nrtmr1 = \"{mr_td}\"\nmr_service_td = [\"{mr_service_td}\"]\naccepted_tcb_statuses = [\"UpToDate\", \"SWHardeningNeeded\"]\ndenied_advisories = [\"INTEL-SA-00837\"]\nmin_tcb_evaluation_data_number = 17\nout_of_date_grace_period_secs = 3600\n"
    );
    let from_json = Policy::from_text(&json).unwrap();
    let from_toml = Policy::from_text(&toml).unwrap();
    assert_eq!(from_json, from_toml);
    assert_eq!(from_json.mr_td, vec![Hex([0xab; 48])]);
    assert_eq!(from_json.mr_service_td, vec![Hex([0xcd; 48])]);
    assert_eq!(
        from_json.accepted_tcb_statuses,
        [TcbStatus::UpToDate, TcbStatus::SWHardeningNeeded]
    );
    assert_eq!(
        Policy::from_json(&serde_json::to_string(&from_json).unwrap()).unwrap(),
        from_json
    );
    // A file that identifies no workload does not load, unless it says it accepts any.
    for unpinned in [
        r#"{"profile":"azure"}"#.to_owned(),
        format!(r#"{{"mr_td":["{mr_td}"]}}"#),
        "profile = \"gcp\"\n".to_owned(),
    ] {
        assert!(
            matches!(
                Policy::from_text(&unpinned),
                Err(AppraisalError::NoWorkload(_))
            ),
            "{unpinned}"
        );
    }
    let any = Policy::from_text(r#"{"profile":"azure","any_workload":true}"#).unwrap();
    assert!(any.any_workload);
    assert!(
        Policy::from_text("any_workload = true\n")
            .unwrap()
            .any_workload
    );
    let by_config = format!(r#"{{"mr_config_id":"{mr_td}"}}"#);
    Policy::from_text(&by_config).unwrap();
    for bad in [
        r#"{"mr_td":["abcd"]}"#,
        r#"{"mr_service_td":"abcd"}"#,
        r#"{"unknown":1}"#,
        r#"{"accepted_tcb_statuses":["Fine"]}"#,
        "profile = \"aws\"",
    ] {
        assert!(
            matches!(Policy::from_text(bad), Err(AppraisalError::Load(_))),
            "{bad}"
        );
    }
}

#[test]
fn measurements_and_rtmr_pins_parse_from_command_line_text() {
    let hex48 = "ab".repeat(48);
    assert_eq!(
        format!(" {hex48}\n").parse::<Hex<48>>(),
        Ok(Hex([0xab; 48]))
    );
    for short_or_odd in [
        "ab".repeat(47),
        "ab".repeat(49),
        format!("{hex48}a"),
        "zz".repeat(48),
    ] {
        assert_eq!(
            short_or_odd.parse::<Hex<48>>(),
            Err(ValueError::NotHex { len: 48 })
        );
    }

    let pin: RtmrPin = format!("2={hex48}").parse().unwrap();
    assert_eq!((pin.index(), pin.value()), (2, [0xab; 48]));
    assert_eq!(hex48.parse::<RtmrPin>(), Err(ValueError::NotRtmrPin));
    for index in ["4", "-1", "x", ""] {
        assert_eq!(
            format!("{index}={hex48}").parse::<RtmrPin>(),
            Err(ValueError::RtmrIndex),
            "{index}"
        );
    }
    assert_eq!(
        "3=abcd".parse::<RtmrPin>(),
        Err(ValueError::NotHex { len: 48 })
    );
    assert_eq!(RtmrPin::new(4, [0; 48]), Err(ValueError::RtmrIndex));

    // A pin narrows a policy as `expect_rtmr` does.
    let mut policy = Policy::new();
    policy.expect_rtmr(pin.index(), pin.value()).unwrap();
    assert_eq!(policy.rtmr2, Some(Hex([0xab; 48])));
}
