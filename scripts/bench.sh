#!/usr/bin/env bash
# The benchmarks (not part of `npm test`): each prints per-run lines and a
# one-line summary with the ratio last; everything is also kept in
# bench/results/<bench>.log. Needs the function bundles, so it builds first.
#
#   npm run bench                      # all of them (about 40 min on 2 cores)
#   npm run bench -- overhead resume   # some of them
#   npm run bench -- quality           # answers on real footage (opencv-doc videos, LibriVox)
#   REUSE_INPUTS=60s npm run bench -- reuse   # shared results: re-query, fps change, race, search
#   OVERHEAD_ROUNDS=5 OVERHEAD_10MIN_ROUNDS=1 npm run bench -- overhead
set -euo pipefail
cd "$(dirname "$0")/.."

benches=("$@")
[ "${#benches[@]}" -eq 0 ] && benches=(overhead resume orchestration concurrency quality reuse)
mkdir -p bench/results
npm run --silent build

run() {
  local name=$1
  shift
  echo "== bench: $name ($*)"
  # NODE_NO_WARNINGS: the AWS SDK's "Node 20 support ends" notice would drown the numbers.
  NODE_NO_WARNINGS=1 npx tsx "bench/$name.ts" "$@" 2>&1 | tee -a "bench/results/$name.log"
}

for bench in "${benches[@]}"; do
  case "$bench" in
    overhead)
      run overhead --input 60s --rounds "${OVERHEAD_ROUNDS:-5}"
      run overhead --input 10min --rounds "${OVERHEAD_10MIN_ROUNDS:-1}"
      ;;
    resume) run resume --input 60s --trials "${RESUME_TRIALS:-3}" --pauses "${RESUME_PAUSES:-2}" ;;
    orchestration) run orchestration --clips "${ORCHESTRATION_CLIPS:-100,1000,10000}" ;;
    concurrency)
      run concurrency --requests "${CONCURRENCY_REQUESTS:-5,20}"
      run concurrency --requests "${CONCURRENCY_REQUESTS:-5,20}" --patient
      ;;
    quality) run quality ${QUALITY_CONFIGS:+--configs "$QUALITY_CONFIGS"} ;;
    reuse) run reuse --inputs "${REUSE_INPUTS:-60s,10min}" ;;
    *) echo "unknown bench: $bench (overhead, resume, orchestration, concurrency, quality, reuse)" >&2; exit 2 ;;
  esac
done
