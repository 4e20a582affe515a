#!/usr/bin/env bash
# Runs a command inside mailplane's toolchain (Node 24, the Pulumi CLI, offline Pulumi settings),
# provisioning whatever is missing first: scripts/run.sh npm test
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
toolchain_ensure
exec "$@"
