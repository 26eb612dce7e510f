#!/usr/bin/env bash
# The workflow editor's end-to-end test (issue 13), in a real headless Chromium:
#   1. the committed page bundle is what `npm ci && npm run build` makes from the lockfile;
#   2. the editor serves the page, guarded (token, Host, Origin);
#   3. puppeteer-core drives the page by UI actions (scripts/ci/editor-browser-test.mjs):
#      build upload → image-to-video → wait → download, a refused edge, a rule error fixed,
#      a run to a ~5 s video playing in the page, a cancelled run whose task is killed, save;
#      a table of rows (a pasted one with an impossible row refused, naming row and column;
#      a 3-row CSV run to 3 rows done, 3 files and results.csv);
#      then with a model catalog of 300+ models (synced from the emulator's synthetic ones):
#      the palette's search, a catalog model's form, image-studio and chat runs to files
#      (the 2 pictures shown in the page at the size asked);
#   4. the saved file runs with `wiro-nodes run` (on the embedded emulator, no credentials).
# Installs Debian's chromium (apt-get) and puppeteer-core (npm) when missing; npm's cache and
# puppeteer-core live in $WIRO_CACHE (default ~/.cache/wiro-nodes), outside the clone.
# Screenshots go to target/editor-artifacts/. Skip only with WIRO_SKIP_EDITOR=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

if [ "${WIRO_SKIP_EDITOR:-}" = "1" ]; then
  echo "=================================================================="
  echo "  editor browser test SKIPPED (WIRO_SKIP_EDITOR=1)"
  echo "=================================================================="
  exit 0
fi

SECONDS=0
CACHE=${WIRO_CACHE:-$HOME/.cache/wiro-nodes}
PUPPETEER_VERSION=25.16.0
WEB=src/hosts/editor/web
ARTIFACTS=$ROOT/target/editor-artifacts
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$CACHE" "$ARTIFACTS"
say() { echo "[editor.sh] $*"; }

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "error: node and npm are needed (Node >= 20.19 for Vite)" >&2
  exit 1
}

# 1. Chromium from Debian.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  say "installing Debian's chromium (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  CHROMIUM=$(command -v chromium)
fi
say "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

# 2. puppeteer-core, pinned, in the cache.
PUPPETEER_DIR=$CACHE/puppeteer-$PUPPETEER_VERSION
if [ ! -f "$PUPPETEER_DIR/node_modules/puppeteer-core/package.json" ]; then
  say "installing puppeteer-core@$PUPPETEER_VERSION into $PUPPETEER_DIR"
  mkdir -p "$PUPPETEER_DIR"
  echo '{"private": true}' >"$PUPPETEER_DIR/package.json"
  npm install --prefix "$PUPPETEER_DIR" --cache "$CACHE/npm" --no-audit --no-fund \
    "puppeteer-core@$PUPPETEER_VERSION" >/dev/null
fi

# 3. The committed bundle is what the lockfile builds.
say "rebuilding the page from the lockfile (npm ci && npm run build)"
COMMITTED=$(mktemp -d)
cp -r "$WEB/dist" "$COMMITTED/dist"
(cd "$WEB" && npm ci --cache "$CACHE/npm" --no-audit --no-fund --prefer-offline >/dev/null && npm run --silent build >/dev/null)
if ! diff -r "$COMMITTED/dist" "$WEB/dist"; then
  echo "error: src/hosts/editor/web/dist differs from what the lockfile builds;" >&2
  echo "       run 'npm ci && npm run build' in $WEB and commit dist/" >&2
  exit 1
fi
say "bundle matches: $(du -cb "$WEB"/dist/index.html "$WEB"/dist/assets/* | tail -1 | cut -f1) bytes"

# 4. The binary.
say "building wiro-nodes"
cargo build --quiet --bin wiro-nodes
BIN=$TARGET/debug/wiro-nodes

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_for_line() { # FILE PATTERN: waits (up to 60 s) for a line, prints it
  for _ in $(seq 600); do
    if grep -m1 -E "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "error: no line matching '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

# 5. A standalone emulator with a signing key pair: the editor runs with credentials (which
#    must never reach the page), and the test can ask the emulator what became of a task.
# Half speed: a task runs for about 5 s, so the test cancels it while it runs (it waits for
# task_start in the page first), never after it ended, even on a slow machine.
# 300 synthetic models beside its own: the editor offers hundreds of node types.
say "starting the emulator (300 synthetic models)"
"$BIN" emulator --speed 0.5 --synthetic-models 300 >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
PIDS+=($!)
wait_for_line "$WORK/emulator.out" '^export WIRO_API_SECRET=' >/dev/null
EMULATOR_ENV=$(grep '^export ' "$WORK/emulator.out")
KEY=$(sed -n 's/^export WIRO_API_KEY=//p' "$WORK/emulator.out" | tr -d "'\"")
SECRET=$(sed -n 's/^export WIRO_API_SECRET=//p' "$WORK/emulator.out" | tr -d "'\"")

say "syncing the model catalog from the emulator"
CATALOG=$WORK/catalog.json
(eval "$EMULATOR_ENV" && "$BIN" catalog sync --all --catalog "$CATALOG" >"$WORK/sync.out")
tail -1 "$WORK/sync.out"

say "starting the editor (workspace $WORK/ws, catalog $CATALOG)"
mkdir -p "$WORK/ws"
(eval "$EMULATOR_ENV" && exec "$BIN" editor --catalog "$CATALOG" --dir "$WORK/ws" --out "$WORK/ws/out") >"$WORK/editor.out" 2>"$WORK/editor.err" &
PIDS+=($!)
URL=$(wait_for_line "$WORK/editor.out" '^Workflow editor: http' | sed 's/^Workflow editor: //')
ORIGIN=${URL%%/#*}
TOKEN=${URL##*#token=}
HOSTPORT=${ORIGIN#http://}

# 6. The guard, from outside the browser.
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(status "$ORIGIN/api/nodes")" = 401 ] || { echo "error: no token was accepted" >&2; exit 1; }
[ "$(status -H "x-wiro-editor-token: $TOKEN" "$ORIGIN/api/nodes")" = 200 ] || { echo "error: the token was refused" >&2; exit 1; }
[ "$(status -H "Host: rebound.example:${HOSTPORT##*:}" -H "x-wiro-editor-token: $TOKEN" "$ORIGIN/api/nodes")" = 421 ] ||
  { echo "error: a foreign Host was accepted" >&2; exit 1; }
[ "$(status -H "Origin: http://127.0.0.1:1" -H "x-wiro-editor-token: $TOKEN" "$ORIGIN/api/nodes")" = 403 ] ||
  { echo "error: a foreign Origin was accepted" >&2; exit 1; }
say "guard: no token 401, token 200, foreign Host 421, foreign Origin 403"

# 7. The browser.
say "driving the page in headless Chromium"
rm -f "$ARTIFACTS"/*.png
BROWSER_START=$SECONDS
EDITOR_URL=$URL CHROMIUM=$CHROMIUM PUPPETEER_DIR=$PUPPETEER_DIR MEADOW=$ROOT/examples/meadow.png \
  ARTIFACTS=$ARTIFACTS SECRETS="$KEY:$SECRET" SAVED_PATH=$WORK/ws/saved.json \
  EXAMPLE=$ROOT/examples/image-to-video.json \
  node scripts/ci/editor-browser-test.mjs
say "browser part took $((SECONDS - BROWSER_START)) s"

# 8. The emulator says the cancelled run's task was killed.
TASKID=$(node -e 'console.log(require(process.argv[1]).cancelledTask)' "$ARTIFACTS/result.json")
DETAIL=$(eval "$EMULATOR_ENV" && "$BIN" node exec wiro/task.detail --inputs "{\"task\": {\"taskid\": \"$TASKID\"}}")
echo "$DETAIL" | grep -q '"status": *"task_cancel"' || { echo "error: task $TASKID was not killed: $DETAIL" >&2; exit 1; }
say "emulator: task $TASKID is task_cancel"

# 9. The saved file is the CLI's format: a round trip in the page changes nothing, and
#    `wiro-nodes run` runs it (no credentials: the embedded emulator).
cmp "$WORK/ws/saved.json" "$WORK/ws/reopened.json" || { echo "error: open + save changed the file" >&2; exit 1; }
node -e '
  const [a, b] = process.argv.slice(1).map((f) => JSON.stringify(JSON.parse(require("fs").readFileSync(f, "utf8"))));
  if (a !== b) { console.error("error: the example changed in a round trip:\n" + a + "\n" + b); process.exit(1); }
' "$ROOT/examples/image-to-video.json" "$WORK/ws/example.json"
say "round trips: saved.json byte for byte, examples/image-to-video.json value for value"
say "saved.json:"
cat "$WORK/ws/saved.json"
say "wiro-nodes run saved.json (embedded emulator)"
(unset WIRO_API_KEY WIRO_API_SECRET WIRO_BASE_URL WIRO_SOCKET_URL
  "$BIN" run "$WORK/ws/saved.json" --out "$WORK/cli-out")
[ -s "$WORK/cli-out/download-0.mp4" ] || { echo "error: the CLI run wrote no video" >&2; exit 1; }

say "passed in $SECONDS s; screenshots in $ARTIFACTS"
