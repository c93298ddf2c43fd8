//! Scenario 1: many agencies, offline, skewed clocks, shuffled syncs.

use hearth_e2e::rng::Rng;
use hearth_e2e::server::Server;

use crate::fixture::*;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

#[test]
fn three_agencies_offline_with_skewed_clocks_make_one_ordered_chronology() {
    let mut rng = Rng::from_env("agencies");
    let mut server = Server::start();
    // A health visitor's tablet 3 hours fast, a nursery's shared tablet two
    // days slow, a social worker's laptop a day and a half fast.
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 3 * HOUR, None);
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", -2 * DAY, None);
    let sw = enrolled(&server, "CSC-EAST", "sw.khan", 36 * HOUR, None);

    // The server goes down; everyone carries on capturing.
    server.kill();
    let t = now();
    // The visit happened four days ago and is written up only now: late.
    let visit = hv.record(&home_visit(
        &[CHILD_A, CHILD_B],
        t - 4 * DAY,
        "Unannounced visit; both children seen; little food in the house",
    ));
    let arrival = nursery.record(&daily(CHILD_A, t - 3 * HOUR, "Arrived hungry"));
    let earlier = nursery.record(&daily(CHILD_A, t - 20 * HOUR, "Arrived hungry again"));
    // Written an hour after the event, on a clock 36 hours fast: not late
    // once the server corrects the clock, though the raw device time says so.
    let referral = sw.record(&concern(
        CHILD_B,
        t - HOUR,
        "Referral after third hunger report",
    ));
    let other = sw.record(&concern(CHILD_C, t - 2 * HOUR, "Unrelated family"));

    // Capture needed no server.
    for (agent, n) in [(&hv, 1), (&nursery, 2), (&sw, 2)] {
        let list = agent.list();
        assert_eq!(list.len(), n);
        assert!(list.iter().all(|r| r["status"] == "pending"));
    }

    server.restart();
    let mut order = [&hv, &nursery, &sw];
    rng.shuffle(&mut order);
    for agent in order {
        assert_eq!(agent.sync(), 0, "sync exits 0 when everything is synced");
        assert!(statuses(agent).values().all(|s| s == "synced"));
    }

    // Child A's own chronology: event order, right agencies, late entry flagged.
    let a = server.chronology_json(CHILD_A, false);
    let got: Vec<(&str, &str)> = entries(&a)
        .iter()
        .map(|e| {
            (
                e["record_id"].as_str().unwrap(),
                e["agency"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (visit.as_str(), "HV-NORTH"),
            (earlier.as_str(), "NURSERY-12"),
            (arrival.as_str(), "NURSERY-12"),
        ],
        "child A's chronology in event order with agencies"
    );
    let occurred: Vec<&str> = entries(&a)
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    assert!(occurred.windows(2).all(|w| w[0] <= w[1]), "{occurred:?}");
    let flags = |chronology: &serde_json::Value, id: &str| -> Vec<String> {
        entries(chronology)
            .iter()
            .find(|e| e["record_id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    };
    assert!(flags(&a, &visit).contains(&"late_entry".to_string()));
    assert!(!flags(&a, &arrival).contains(&"late_entry".to_string()));
    assert!(!flags(&a, &earlier).contains(&"late_entry".to_string()));

    // The family view merges the siblings: B's referral joins A's history,
    // the shared visit appears once, and the unrelated child stays out.
    let family = server.chronology_json(CHILD_A, true);
    let ids: Vec<&str> = entries(&family)
        .iter()
        .map(|e| e["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            visit.as_str(),
            earlier.as_str(),
            arrival.as_str(),
            referral.as_str()
        ]
    );
    assert!(!ids.contains(&other.as_str()));
    assert!(!flags(&family, &referral).contains(&"late_entry".to_string()));
    assert_eq!(
        entries(&family)
            .iter()
            .find(|e| e["record_id"] == referral.as_str())
            .unwrap()["agency"],
        "CSC-EAST"
    );

    // The server measured each device's clock.
    let devices: serde_json::Value =
        serde_json::from_str(&server.admin_ok(&["devices", "--json"])).unwrap();
    let mut offsets: Vec<i64> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["clock_offset_seconds"].as_i64().unwrap())
        .collect();
    offsets.sort();
    for (measured, skew) in offsets.iter().zip([-2 * DAY, 3 * HOUR, 36 * HOUR]) {
        assert!(
            (measured - skew).abs() <= 5,
            "offset {measured} for skew {skew}"
        );
    }
}
