//! End-to-end tests of the real `hearth-server` and `hearth-agent`
//! binaries on loopback: one test binary, one module per scenario.
//!
//! | module | what it proves |
//! | --- | --- |
//! | `agencies` | several agencies capture offline with skewed clocks, sync in any order, and the chronology comes out in event order with the right agencies, merged siblings and late entries flagged |
//! | `interrupted` | a sync cut before the request, after the commit, or mid-response converges on a rerun, every record synced exactly once |
//! | `families` | a nursery record naming two unrelated children joins no families, a home visit naming siblings does, and an audited unlink with a reason separates them even after a new home visit (issue 12) |
//! | `crashes` | kill -9 of the agent mid-capture and mid-sync, and of the server mid-ingest, at random points, loses nothing that was acknowledged |
//! | `kill_points` | `HEARTH_KILL_AT` stops the agent before and after a capture's commit and the server before and after an ingest commit; nothing acknowledged is lost, nothing stored twice |
//! | `mitm` | through an HTTP-aware proxy holding the server's certificate, a dropped or cut request never stores, a dropped or cut answer follows a commit, a duplicated batch is answered twice and stored once, a reordered batch lands after the next one and changes nothing, and a stale answer (the device's own or another's) marks nothing synced; at random, everything converges once (issue 19); a backlog of more than 100 records goes compressed both ways after the first answer, and plain if the proxy strips `Hearth-Protocol`; the protocol is remembered across runs, and a server rolled back to before it gets the batch again plain (issue 20) |
//! | `batches` | an agent sends batches as large as the server says it takes (`Hearth-Batch-Records`, learnt at enrolment): 4 a batch to a server limited to 4; a server whose limit fell since refuses the first batch and the same sync goes on in smaller ones, each record stored once (issue 20) |
//! | `old_agent` | a copy of the agent protocol from before issue 20 (plain bodies, no `Accept-Encoding`) enrols, syncs two batches, gets receipts, a duplicate on a resend and a caseload from today's server, which answers it plain (issue 20) |
//! | `network` | a proxy that drops, truncates and delays traffic at random cannot cause loss or duplicates |
//! | `hostile` | tampered, forged, replayed, forked and oversize records and bad bodies are refused with reasons while the server keeps serving |
//! | `outbox` | a locked tablet (no passphrase, no session) syncs its sealed outbox and shows the records synced; `/v1/outbox` takes only boxes that open to the device's own signed records, answers all else with one 401, and is idempotent (issue 14) |
//! | `backup` | `hearth-server backup` taken while a device syncs is a store the server opens, holding every record acknowledged before it began; an existing file is never overwritten (issue 18) |
//! | `store_copy` | a SQLite store (records of several kinds, people, caseload, access log, a web session) copied into PostgreSQL serves the same chronology byte for byte and the same session; a tampered record is refused by name and nothing is copied (issue 18) |
//! | `revocation` | a revoked device is told so and refused; its synced records remain |
//! | `flood` | 256 unauthenticated connections flooding bodies neither delay `/v1/health` past 1 s nor take the server past 256 MiB resident |
//! | `audit` | every pull, CLI or HTTP, is in the access log; a pull without a reason is refused |
//! | `signals` | a neglect family built on five agencies' tablets raises each intended practice signal with exactly its evidence, a control family none, and the same records in another order from other tablets give the same signals (issue 16) |
//! | `people` | the people register round-trips through CLI and HTTP with every read and change in the register log; a CSV import stores its good rows and reports each refused row and field; an identity link joins two agencies' records of one child and an unlink parts them; an unborn child's records join the NHS number after birth, named in table, CSV and JSON (issue 17) |
//! | `caseload` | two devices (a health visitor's, a nursery room's shared tablet) each get their own signed caseload with names; a tampered one is refused and the old one kept; an unassigned child leaves the device; no name is in the store's files in the clear; a visit plan's tasks are overdue, due, and done on the device before sync (issue 17) |
//! | `instances` | two `hearth-server serve` on one PostgreSQL database: four tablets syncing at once through a random instance each time, a retry landing on the other instance, an instance killed mid-ingest; every record synced is stored exactly once, no fork, no gap; `/v1/health` is 503 when the database is gone (issue 18) |
//! | `tenancy` | two partnerships in one database, each with its own role: a manager and a device of one are refused on every route of the other like strangers, counted and not in its access log; a pull of the other's child finds nothing and is logged; the database refuses the other's schema; SQLite refuses another partnership (issue 18) |
//! | `identity` | a device records only as its enrolment and amends only its own records (the agent refuses, the server rejects into quarantine); rejected records cannot fill the disk (issue 11) |

mod agencies;
mod amendments;
mod audit;
mod backup;
mod batches;
mod caseload;
mod crashes;
mod families;
mod fixture;
mod flood;
mod hostile;
mod identity;
mod instances;
mod interrupted;
mod kill_points;
mod mitm;
mod network;
mod old_agent;
mod outbox;
mod people;
mod revocation;
mod signals;
mod store_copy;
mod tenancy;
