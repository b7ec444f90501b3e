#!/usr/bin/env bash
# `make run`: put the freshly built extension, and Cline beside it, in front of a person.
#   - With VS Code's `code` command: install both there.
#   - Otherwise: start code-server (cached by scripts/install-e2e-tools.sh) on 127.0.0.1 with both
#     installed, print the URL and serve until Ctrl-C.
# Cline (saoudrizwan.claude-dev) is installed only when missing, from the sources of
# scripts/install-cline.sh (CLINE_VSIX, ../shared/vendor/cline/ beside the clone, the gallery).
# Environment: CLINE_BRIDGE_PORT (default 8080; a free port is chosen if it is taken),
# CLINE_BRIDGE_RUN_DIR (code-server's profile; default <cache>/run, kept between runs).
set -euo pipefail

vsix="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(pwd)"
cline_id="saoudrizwan.claude-dev"

# Installs Cline into the editor whose CLI is "$@" unless it is there; never fatal: without Cline the
# bridge still runs, and its commands say that Cline is missing.
ensure_cline() {
  if "$@" --list-extensions 2>/dev/null | grep -qix "$cline_id"; then
    return 0
  fi
  local source
  if source="$(bash "$here/install-cline.sh" "$@")"; then
    echo "Installed Cline from $source."
  else
    echo "Cline is not installed (see above); the bridge runs, and says so when a task needs it." >&2
  fi
}

steps_left() {
  echo
  echo "Two steps are left, in the editor:"
  echo "  1. Open Cline's panel and sign in, or choose an API provider and key in its settings."
  echo "  2. Run 'Cline Bridge: Start New Task…' from the command palette, or 'cline-bridge task'"
  echo "     in its integrated terminal."
}

if command -v code >/dev/null 2>&1; then
  code --install-extension "$vsix" --force
  ensure_cline code
  echo "Installed Cline Bridge into VS Code: reload its window."
  steps_left
  exit 0
fi

bash "$here/install-e2e-tools.sh" --vscode-only
# shellcheck source=e2e-tools.env
. "$here/e2e-tools.env"
cache="${CLINE_BRIDGE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cline-bridge}"
code_server="$cache/code-server-$CODE_SERVER_VERSION/node_modules/.bin/code-server"
export PATH="$cache/node-$NODE_VERSION/bin:$PATH"

run_dir="${CLINE_BRIDGE_RUN_DIR:-$cache/run}"
mkdir -p "$run_dir/user-data" "$run_dir/extensions"
profile=(--user-data-dir "$run_dir/user-data" --extensions-dir "$run_dir/extensions")
"$code_server" "${profile[@]}" --install-extension "$vsix" --force >/dev/null
ensure_cline "$code_server" "${profile[@]}"

port="${CLINE_BRIDGE_PORT:-8080}"
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  port="$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
fi

echo "Cline Bridge runs in code-server: open http://127.0.0.1:$port/?folder=$workspace"
echo "(code-server starts its extensions, Cline and the bridge's sidecar included, only while a"
echo "browser page is open on it.)"
steps_left
echo "Stop with Ctrl-C."
exec "$code_server" "${profile[@]}" --auth none --bind-addr "127.0.0.1:$port" \
  --disable-telemetry --disable-update-check --disable-getting-started-override "$workspace"
