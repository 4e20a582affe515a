#!/usr/bin/env bash
# Installs the Debian packages tests rely on, when missing: the PostgreSQL server (store contract tests).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/postgres.sh" install
