#!/usr/bin/env bash
# PostgreSQL for tests: `install` adds Debian's server package when its binaries are missing;
# `start` runs a throwaway server on a free loopback port and prints its URL (Ctrl-C stops it and deletes its data).
# The test suite starts and stops its own server (test/support/postgres.ts); this is for manual use.
set -euo pipefail
cmd="${1:-}"
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
case "$cmd" in
  install)
    if [ -n "$(find_bin)" ] && [ -x "$(find_bin)/initdb" ]; then exit 0; fi
    echo "▸ installing PostgreSQL server binaries (Debian package postgresql)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    ;;
  start)
    source "$(dirname "$0")/toolchain.sh" && toolchain_ensure
    exec node --input-type=module -e '
      const { startPostgres } = await import(process.argv[1]);
      const pg = await startPostgres();
      console.log(pg.url);
      process.on("SIGINT", () => { pg.stop(); process.exit(0); });
      process.on("SIGTERM", () => { pg.stop(); process.exit(0); });
      console.error("PostgreSQL running; Ctrl-C stops it and deletes its data");
      setInterval(() => {}, 1 << 30);
    ' "$(cd "$(dirname "$0")/.." && pwd)/test/support/postgres.ts"
    ;;
  *)
    echo "usage: scripts/postgres.sh install|start" >&2; exit 2 ;;
esac
