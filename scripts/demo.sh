#!/usr/bin/env bash
# The whole Hearth loop on embedded defaults, on this machine:
#   a server on loopback (SQLite, generated certificate), three agencies'
#   tablets enrolled, observations captured while the server is down, then
#   synced, then the merged family chronology printed as a table.
# Then it leaves the server running and prints the manager's web app URL and
# a sign-in to try, until Ctrl-C (HEARTH_DEMO_EXIT=1: stop there instead).
# Everything lives in a temporary directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p hearth-agent -p hearth-sync-server
server=target/debug/hearth-server
agent=target/debug/hearth-agent
work=$(mktemp -d)
export HEARTH_PASSPHRASE="demo passphrase, never a real one"
export RUST_LOG=warn
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

start_server() {
    "$server" --data "$work/server" serve --listen "${1:-127.0.0.1:0}" >"$work/server.out" &
    pid=$!
    for _ in $(seq 300); do
        grep -q '^listening on' "$work/server.out" 2>/dev/null && break
        sleep 0.1
    done
    url=$(sed -n 's/^listening on //p' "$work/server.out")
    pin=$(sed -n 's/^fingerprint //p' "$work/server.out")
}

say "1. Start the server: SQLite in $work/server, a self-signed certificate"
start_server
echo "   $url, certificate $pin"

say "2. Set up and enrol three tablets (health visiting, nursery, social care)"
tablet() { "$agent" --store "$work/$1" "${@:2}"; }
for spec in hv:HV-NORTH:hv.jones nursery:NURSERY-12:dsl.patel sw:CSC-EAST:sw.khan; do
    IFS=: read -r name agency worker <<<"$spec"
    tablet "$name" init --agency "$agency" --worker "$worker" >/dev/null
    token=$("$server" --data "$work/server" enrol-token --agency "$agency" --worker "$worker" 2>/dev/null)
    tablet "$name" enrol --server "$url" --token "$token" --pin "$pin"
done

say "3. The server goes down; the tablets capture offline"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
day() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
A=nhs:9434765919 B=nhs:4010232137
tablet hv record home-visit --child $A --child $B --occurred-at "$(day '-3 days 10:30')" \
    --headline "Unannounced visit; both children seen; little food in the house" \
    --access unannounced --present mother --present "male_carer_or_partner:mother's partner" \
    --child-seen awake --observation nutrition:4 --observation housing:3 >/dev/null
tablet nursery record daily-presentation --child $A --occurred-at "$(day '-1 day 08:40')" \
    --headline "Arrived late and hungry; nappy not changed" --attendance late --arrival-time 08:40 \
    --hungry --nappy-concern >/dev/null
tablet nursery record voice --child $A --occurred-at "$(day '-1 day 11:15')" \
    --headline "Hid toast from snack time in her bag" --mode behaviour \
    --behaviour "Put toast in her bag when she thought no one was looking" \
    --meaning "May be worried there will be no food at home" >/dev/null
tablet sw record concern --child $B --occurred-at "$(day '-2 hours')" \
    --headline "Referral after third hunger report this month" --category neglect \
    --seen-or-said "Hunger reported by nursery three times" --action referred \
    --action-detail "Children's social care front door" >/dev/null
tablet sw record meeting --child $A --child $B --occurred-at "$(day '-1 hour')" \
    --headline "Strategy discussion; GP absent; minutes not recorded" \
    --meeting-type strategy_discussion --attendee "Social worker@CSC-EAST" \
    --attendee "Health visitor@HV-NORTH" --absent-agency GP-PARK --minutes not_recorded >/dev/null
for name in hv nursery sw; do
    printf '   %-8s %s\n' "$name" "$(tablet "$name" status | grep -i pending | head -1 | xargs)"
done

say "4. The server comes back; each tablet syncs"
start_server "${url#https://}"
for name in sw hv nursery; do printf '   %-8s ' "$name"; tablet "$name" sync; done

say "5. A manager pulls the family chronology (the pull is audited with its reason)"
"$server" --data "$work/server" chronology --child $A --family --format table \
    --reason "README demo: case review preparation" --as demo.manager
echo
"$server" --data "$work/server" access-log

say "6. The manager's web app, on the same HTTPS port"
password="demo-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
"$server" --data "$work/server" user add demo.manager --role manager >/dev/null 2>&1
printf '%s\n' "$password" | "$server" --data "$work/server" user passwd demo.manager >/dev/null
echo "   Open $url/ in a browser. The certificate is self-signed: check that its"
echo "   SHA-256 fingerprint is $pin, then accept it."
echo "   Sign in as demo.manager with the password $password"
echo "   Find child $A, give a reason, tick \"family\", and read the chronology."
[ -n "${HEARTH_DEMO_EXIT:-}" ] && exit 0
echo "   Press Ctrl-C to stop the server and delete the demo's data."
wait "$pid"
