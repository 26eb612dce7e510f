#!/usr/bin/env bash
# The chaos soak (issue 11): 200 text-to-video -> wait -> download chains run with
# `wiro-nodes run` against an emulator that answers one request in five with a random fault,
# and the same command once more if the first run did not finish.
#
# Passes when: all 200 chains finish within that one rerun, the emulator created exactly 200
# tasks, and every downloaded file is byte-identical to what the emulator served for its task.
# It prints the seed, the faults by operation and the time: WIRO_SOAK_SEED=N replays a soak.
#
# Reuses the debug build `cargo test` made; takes about a minute and a half on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --test it chaos_soak:: -- --ignored --nocapture
