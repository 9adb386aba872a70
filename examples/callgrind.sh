#!/usr/bin/env bash
# Instructions per request, counted by callgrind (repeatable on a shared
# machine, unlike a clock): the load example serves a seeded SQLite
# workspace under valgrind with instrumentation off; for each page it is
# switched on for REQUESTS sequential requests (curl, outside the count),
# switched off, and the total is divided by REQUESTS.
#
#   cargo build --release --example load
#   examples/callgrind.sh            # CONFER_LOAD_CONVERSATIONS=20000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${REQUESTS:-40}
export CONFER_LOAD_CONVERSATIONS=${CONFER_LOAD_CONVERSATIONS:-20000}
dir=$(mktemp -d /tmp/confer-callgrind.XXXXXX)
bin=target/release/examples/load
[ -x "$bin" ] || { echo "build it first: cargo build --release --example load" >&2; exit 1; }
# Seed outside valgrind (fast), then serve the same file under it.
"$bin" serve "$dir" & seeder=$!
until [ -f "$dir/ready" ]; do sleep 1; kill -0 "$seeder" 2>/dev/null || exit 1; done
kill "$seeder"; wait "$seeder" 2>/dev/null || true
rm "$dir/ready"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out.%p" \
  "$bin" serve "$dir" 2>"$dir/valgrind.log" & server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
until [ -f "$dir/ready" ]; do sleep 1; kill -0 "$server" 2>/dev/null || { cat "$dir/valgrind.log"; exit 1; }; done
{ read -r bare; read -r base; read -r cookie; read -r token; } <"$dir/ready"
total() { # instructions collected so far (the dump's summary line)
  callgrind_control -d "$server" >/dev/null 2>&1
  local file; file=$(ls -t "$dir"/callgrind.out.* | head -n 1)
  awk '/^totals:/ {print $2}' "$file"
}
measure() { # name, url, header
  local name=$1 url=$2 header=$3
  curl -s -o /dev/null -H "$header" "$url" # warm the caches once
  callgrind_control -z "$server" >/dev/null 2>&1
  callgrind_control -i on "$server" >/dev/null 2>&1
  for _ in $(seq "$requests"); do curl -s -o /dev/null -H "$header" "$url"; done
  callgrind_control -i off "$server" >/dev/null 2>&1
  local ir; ir=$(total)
  printf '| %s | %s |\n' "$name" "$(awk -v ir="$ir" -v n="$requests" 'BEGIN { printf "%.2f M", ir / n / 1e6 }')"
}
echo "SQLite, $CONFER_LOAD_CONVERSATIONS conversations, $requests requests each:"
echo "| request | instructions / request |"
echo "|---|---|"
measure "bare actix + askama + diesel page" "$bare/" "X-None: 1"
measure "/conversations/1 (30 messages)" "$base/conversations/1" "Cookie: $cookie"
measure "/conversations?view=all" "$base/conversations?view=all" "Cookie: $cookie"
measure "/api/v1/conversations?view=all&limit=50" "$base/api/v1/conversations?view=all&limit=50" "Authorization: Bearer $token"
measure "/api/v1/conversations/1/messages" "$base/api/v1/conversations/1/messages" "Authorization: Bearer $token"
measure "/search?q=ultramarine (1 message in 100)" "$base/search?q=ultramarine" "Cookie: $cookie"
measure "/search?q=printer (1 message in 12)" "$base/search?q=printer" "Cookie: $cookie"
measure "/reports for a whole year" "$base/reports?from=$(date -u -d '365 days ago' +%F)&to=$(date -u +%F)" "Cookie: $cookie"
