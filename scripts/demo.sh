#!/usr/bin/env bash
# The one-command demo (npm run demo): installs what is missing, builds, makes
# a sample video (speech + a motorcycle on screen from 6 s to 11 s), starts the
# local stack in the background, asks it two questions — one answered by what
# is seen, one by what is said (from the analysis the first one made) — searches
# every analysed video, prints the matches and the report paths, and stops the
# stack again (also on Ctrl-C or failure).
#
#   CLIPSEEK_DATA   data folder (default .clipseek)
#   CLIPSEEK_PORT   gateway port (default 0: any free port)
set -euo pipefail
cd "$(dirname "$0")/.."

# The demo runs on its own local stack, whatever GATEWAY_URL / STORAGE_URL the shell points at.
unset GATEWAY_URL STORAGE_URL
DATA="${CLIPSEEK_DATA:-.clipseek}"
PORT="${CLIPSEEK_PORT:-0}"
clipseek() { node bin/clipseek.mjs "$@"; }
step() { if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }

step "setup: Debian packages and npm dependencies (only what is missing)"
bash scripts/setup.sh

step "build: bundling the functions and the CLI"
node --input-type=module -e "import { buildFunctions } from './scripts/build-lib.mjs'; await buildFunctions({ quiet: true });"
echo "dist/ is up to date"

step "sample video"
video=$(clipseek sample --data "$DATA")
echo "$video"

# A stack already running on this data folder is used and left running.
running=$(node -e 'try { const s = require(require("node:path").resolve(process.argv[1])); process.kill(s.pid, 0); console.log(s.gateway_url) } catch {}' \
  "$DATA/up.json")
if [ -n "$running" ]; then
  step "using the stack already running at $running"
else
  step "starting the local stack (gateway + every function, each its own process)"
  trap 'echo; echo "== stopping the stack"; clipseek down --data "$DATA"' EXIT
  clipseek up --detach --data "$DATA" --port "$PORT"
fi

step "query 1: find the motorbike   (answered by object detection)"
clipseek run "$video" --data "$DATA" --query "find the motorbike"

step "query 2: what does it say about the weather   (answered by speech recognition, from the analysis of query 1)"
clipseek run "$video" --data "$DATA" --query "what does it say about the weather"

step "search: every analysed video, from their index documents (runs no stage)"
clipseek search "sunny weather" --data "$DATA"

step "next"
cat <<NEXT
Open a report above in a browser. Then, for example:
  npx clipseek ls                      every request, newest first
  npx clipseek videos                  every analysed video
  npx clipseek status last             stages, tasks and timings of the newest one
  npx clipseek up                      the stack in the foreground (Ctrl-C stops it)
  npx clipseek run my.mp4 -q "people with a cup of coffee"
NEXT
