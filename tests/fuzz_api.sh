#!/usr/bin/env bash
# Fuzzes /api/v1 with schemathesis (from PyPI), driven by the API's own
# OpenAPI document: a real `confer serve` on SQLite filled by `confer demo`,
# an owner's token (the widest permissions), positive and negative cases,
# every check on (the document must say exactly what the server enforces).
# Fails on any 5xx and on any response the document does not describe.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi
cargo build --quiet --bin confer

dir=$(mktemp -d /tmp/confer-fuzz.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="$dir/confer.db" CONFER_DATA_DIR="$dir" CONFER_BIND="127.0.0.1:$port" \
  CONFER_BCRYPT_COST=4 CONFER_API_RATE_LIMIT=1000000 RUST_LOG=warn
target/debug/confer demo >/dev/null

# A token for the demo's owner, stored the way Confer stores it (SHA-256).
token=$(python3 - "$dir/confer.db" <<'PY'
import datetime, hashlib, secrets, sqlite3, sys
token = "confer_pat_" + secrets.token_hex(24)
db = sqlite3.connect(sys.argv[1])
(owner,) = db.execute(
    "SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id WHERE r.key = 'owner'").fetchone()
db.execute(
    "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
    (owner, "fuzz", hashlib.sha256(token.encode()).hexdigest(), token[:17],
     datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")))
db.commit()
print(token)
PY
)

target/debug/confer serve >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null && break
  sleep 0.1
done

"$venv/bin/st" --config-file tests/schemathesis.toml run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --max-examples "${CONFER_FUZZ_EXAMPLES:-25}" \
  --seed 1 \
  --no-color || { echo "--- server log ---"; tail -n 50 "$dir/server.log"; exit 1; }
