//! Scenario 3: a fault-injecting proxy drops, truncates and delays traffic
//! at random. Repeated syncs converge, with no loss and no duplicates.

use hearth_e2e::proxy::FaultProxy;
use hearth_e2e::rng::Rng;
use hearth_e2e::server::Server;

use crate::fixture::*;

#[test]
fn repeated_syncs_through_a_faulty_network_converge() {
    let rng = Rng::from_env("network");
    let server = Server::start();
    let proxy = FaultProxy::start(server.addr());
    let via = Some(format!("https://{}", proxy.addr()));
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, via.clone());
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, via);
    let t = now();
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(hv.record(&concern(CHILD_A, t - 900 * i, &format!("Concern {i}"))));
        ids.push(nursery.record(&daily(CHILD_A, t - 700 * i, &format!("Arrival {i}"))));
    }

    // One connection in four goes through untouched.
    proxy.randomly(rng, 25);
    for agent in [&hv, &nursery] {
        // Capture more between attempts, so some syncs carry new records and
        // resends together.
        for _ in 0..3 {
            let _ = agent.sync();
        }
    }
    ids.push(hv.record(&concern(CHILD_A, t - 30, "Late addition")));
    for agent in [&hv, &nursery] {
        sync_until_done(agent, 60);
        assert!(statuses(agent).values().all(|s| s == "synced"));
    }
    assert!(proxy.connections() > 2, "traffic went through the proxy");
    assert_exactly_once(&server, CHILD_A, &ids);
}
