#!/usr/bin/env bash
# Runs everything: formatting, clippy, and the whole test suite on SQLite and
# PostgreSQL, browser tests in headless Chromium included.
#
# It installs what the project cannot vendor and is missing: Debian's
# chromium and chromium-driver, a PostgreSQL server when none answers, and
# axe-core and oidc-provider from npm, schemathesis from PyPI (in a venv under target/). With CI=true nothing is optional: every PostgreSQL and
# browser test must run (they never skip anyway; they fail with a message).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Rust tools ---------------------------------------------------------------
command -v cargo >/dev/null || { echo "cargo is required: install Rust from https://rustup.rs" >&2; exit 1; }
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  say "adding rustfmt and clippy"
  rustup component add rustfmt clippy
fi

# --- Chromium and its driver for the browser tests ---------------------------------
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
fi

# --- axe-core for accessibility checks in the browser tests -----------------------
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  say "installing axe-core (npm)"
  command -v npm >/dev/null || apt_install nodejs npm
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

# --- node-oidc-provider, the real OpenID provider of the single sign-on tests ---
if [ ! -f tests/oidc/node_modules/oidc-provider/package.json ]; then
  say "installing oidc-provider (npm)"
  command -v npm >/dev/null || apt_install nodejs npm
  (cd tests/oidc && npm ci --no-audit --no-fund --silent)
fi

# --- PostgreSQL ----------------------------------------------------------------
pg_answers() {
  command -v psql >/dev/null || apt_install postgresql-client
  psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}
export CONFER_TEST_PG_URL="${CONFER_TEST_PG_URL:-postgres://127.0.0.1:5432/postgres}"
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then
    as_root runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    as_root rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT
if pg_answers "$CONFER_TEST_PG_URL"; then
  say "using the PostgreSQL server at $CONFER_TEST_PG_URL"
else
  say "no PostgreSQL at $CONFER_TEST_PG_URL: starting a throwaway server"
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
  pg_bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  pg_dir=$(mktemp -d /tmp/confer-pg.XXXXXX)
  port=55432
  chmod 755 "$pg_dir"
  as_root chown postgres "$pg_dir"
  as_root runuser -u postgres -- "$pg_bin/initdb" -A trust --no-sync -U postgres -D "$pg_dir/data" >/dev/null
  as_root runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -l "$pg_dir/log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off -c max_connections=200" start >/dev/null
  export CONFER_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  pg_answers "$CONFER_TEST_PG_URL" || { echo "the throwaway PostgreSQL did not start:" >&2; cat "$pg_dir/log" >&2; exit 1; }
fi

# --- The checks --------------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

say "cargo test (SQLite, PostgreSQL and Chromium)"
rm -rf target/screenshots
log=$(mktemp)
set +e
cargo test -- --test-threads="${CONFER_TEST_THREADS:-2}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
say "schemathesis: fuzzing /api/v1 from its own OpenAPI document"
set +e
tests/fuzz_api.sh
fuzz_status=$?
set -e
[ "$status" -eq 0 ] && status=$fuzz_status
count() { grep -cE "$1" "$log" || true; }
say "summary"
echo "SQLite tests passed:     $(count '::sqlite \.\.\. ok$')"
echo "PostgreSQL tests passed: $(count '::postgres \.\.\. ok$')"
echo "Browser tests passed:    $(count '^test browser::.* \.\.\. ok$') (screenshots in target/screenshots: $(ls target/screenshots 2>/dev/null | wc -l))"
echo "All tests:               $(grep -E '^test result:' "$log" | tail -n 1)"
echo "API fuzzing:             $([ "$fuzz_status" -eq 0 ] && echo passed || echo FAILED)"
rm -f "$log"
exit "$status"
