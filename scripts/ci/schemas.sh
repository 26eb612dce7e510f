#!/usr/bin/env bash
# Every published JSON Schema compiles in stock Ajv 2020 (ajv 8.20.0, default options, strict)
# with ajv-formats 3.0.1 and our vocabulary loaded as the README shows; no keyword is neither
# 2020-12's nor ours; our keywords' values fit node-schemas/meta/wiro-nodes-vocabulary.json;
# every `default` validates against its own schema. Fails naming each file and why.
#
#   bash scripts/ci/schemas.sh            # node-schemas/, and the catalog models' schemas
#   bash scripts/ci/schemas.sh DIR...     # those and these folders too (recursively)
#
# The catalog models' schemas come from the embedded emulator's published models (`catalog
# sync --all`, which reads every parameter type and trap the emulator serves), written with
# `schema --write` into a temporary folder. Set WIRO_SKIP_CATALOG_SCHEMAS=1 to leave them out.
#
# ajv and ajv-formats are pinned in scripts/ci/schema-check/package-lock.json and installed
# there with `npm ci`; npm's cache lives in $WIRO_CACHE (default ~/.cache/wiro-nodes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$ROOT/scripts/ci/schema-check
CACHE=${WIRO_CACHE:-$HOME/.cache/wiro-nodes}
say() { echo "[schemas.sh] $*"; }

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "error: node and npm are needed" >&2
  exit 1
}

# Folders are taken from where the caller stands; node-schemas/ always comes first.
DIRS=("$ROOT/node-schemas")
for dir in "$@"; do
  [ -d "$dir" ] || { echo "error: $dir is not a folder" >&2; exit 1; }
  DIRS+=("$(cd "$dir" && pwd)")
done

if ! (cd "$CHECK" && npm ls --silent ajv ajv-formats >/dev/null 2>&1); then
  say "installing ajv and ajv-formats from the lockfile (npm ci)"
  (cd "$CHECK" && npm ci --cache "$CACHE/npm" --no-audit --no-fund --prefer-offline >/dev/null)
fi

if [ "${WIRO_SKIP_CATALOG_SCHEMAS:-}" != "1" ]; then
  TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
  say "building wiro-nodes to export the catalog models' schemas"
  (cd "$ROOT" && cargo build --quiet --bin wiro-nodes)
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  (cd "$WORK" && env -u WIRO_API_KEY -u WIRO_CATALOG "$TARGET/debug/wiro-nodes" catalog sync --all --catalog catalog.json >/dev/null \
    && env -u WIRO_API_KEY "$TARGET/debug/wiro-nodes" schema --catalog catalog.json --write schemas >/dev/null)
  say "catalog schemas: $(ls "$WORK/schemas" | wc -l) files"
  DIRS+=("$WORK/schemas")
fi

cd "$ROOT"
node "$CHECK/check.js" node-schemas/meta/wiro-nodes-vocabulary.json "${DIRS[@]}"
