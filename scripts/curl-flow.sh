#!/usr/bin/env bash
# The Wiro docs' flow with nothing but curl, openssl and python3: sign with one nonce, run
# PixVerse text-to-video v4, poll Task/Detail until the task ends, download the video and check
# that it is an MP4. Works against the emulator (`wiro-nodes emulator` prints the variables)
# and against the real API (which costs money).
#
#   WIRO_BASE_URL=http://127.0.0.1:8787/v1 WIRO_API_KEY=... WIRO_API_SECRET=... scripts/curl-flow.sh
#
# WIRO_API_SECRET may be empty for a key-only project. WIRO_TIMEOUT_SECONDS (default 300)
# bounds the wait; WIRO_OUTPUT names the downloaded file (default: a temporary file).
set -euo pipefail

: "${WIRO_BASE_URL:?set WIRO_BASE_URL, e.g. http://127.0.0.1:8787/v1 as printed by wiro-nodes emulator}"
: "${WIRO_API_KEY:?set WIRO_API_KEY to the project API key}"
SECRET="${WIRO_API_SECRET:-}"
TIMEOUT="${WIRO_TIMEOUT_SECONDS:-300}"

for tool in curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "curl-flow: $tool is required" >&2; exit 2; }
done

# One nonce for the whole session, as in the docs (a server may be set to refuse replays).
NONCE="$(date +%s)"
HEADERS=(-H "x-api-key: ${WIRO_API_KEY}")
if [ -n "$SECRET" ]; then
  SIGNATURE="$(printf '%s' "${SECRET}${NONCE}" | openssl dgst -sha256 -hmac "${WIRO_API_KEY}" | sed 's/^.*= //')"
  HEADERS+=(-H "x-nonce: ${NONCE}" -H "x-signature: ${SIGNATURE}")
fi

# field PATH: reads JSON on stdin and prints the value at a dotted path (list indexes are
# numbers); strings print raw, anything else as JSON.
field() {
  python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value.get(key)
print(value if isinstance(value, str) else json.dumps(value))
' "$1"
}

post() {
  curl -sS -X POST "${WIRO_BASE_URL}/$1" "${HEADERS[@]}" -H "Content-Type: application/json" -d "$2"
}

RUN="$(post "Run/PixVerse/text-to-video-v4" '{
  "prompt": "A cinematic shot of a rabbit and a turtle racing…",
  "negativePrompt": "",
  "aspectRatio": "16:9",
  "duration": "5",
  "quality": "540p",
  "motionMode": "normal",
  "style": "",
  "seed": "",
  "Watermark": "false"
}')"
if [ "$(field result <<<"$RUN")" != "true" ]; then
  echo "curl-flow: Run refused: $RUN" >&2
  exit 1
fi
TASKID="$(field taskid <<<"$RUN")"
TOKEN="$(field socketaccesstoken <<<"$RUN")"
echo "task ${TASKID} accepted"

DEADLINE=$(( $(date +%s) + TIMEOUT ))
LAST=""
while :; do
  DETAIL="$(post "Task/Detail" "{\"tasktoken\": \"${TOKEN}\"}")"
  STATUS="$(field tasklist.0.status <<<"$DETAIL")"
  if [ "$STATUS" != "$LAST" ]; then
    echo "status ${STATUS}"
    LAST="$STATUS"
  fi
  case "$STATUS" in
    task_postprocess_end | task_cancel) break ;;
  esac
  if [ "$(date +%s)" -ge "$DEADLINE" ]; then
    echo "curl-flow: task ${TASKID} did not end within ${TIMEOUT} s" >&2
    exit 1
  fi
  sleep 0.2
done

PEXIT="$(field tasklist.0.pexit <<<"$DETAIL")"
if [ "$STATUS" != "task_postprocess_end" ] || [ "$PEXIT" != "0" ]; then
  echo "curl-flow: task ${TASKID} failed (status ${STATUS}, pexit ${PEXIT}): $(field tasklist.0.debugerror <<<"$DETAIL")" >&2
  exit 1
fi

URL="$(field tasklist.0.outputs.0.url <<<"$DETAIL")"
OUTPUT="${WIRO_OUTPUT:-$(mktemp "${TMPDIR:-/tmp}/wiro-XXXXXX.mp4")}"
curl -sSf -o "$OUTPUT" "$URL"
if [ "$(head -c 8 "$OUTPUT" | tail -c 4)" != "ftyp" ]; then
  echo "curl-flow: ${URL} is not an MP4 (no ftyp box at the start)" >&2
  exit 1
fi
echo "downloaded $(wc -c <"$OUTPUT" | tr -d ' ') bytes to ${OUTPUT}: an MP4"
