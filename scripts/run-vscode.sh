#!/usr/bin/env bash
# `make run`: put the freshly built extension in front of a person.
#   - With VS Code's `code` command: install the VSIX there.
#   - Otherwise: start code-server (cached by scripts/install-e2e-tools.sh) on 127.0.0.1 with the
#     extension installed, print the URL and serve until Ctrl-C.
# Environment: CLINE_BRIDGE_PORT (default 8080; a free port is chosen if it is taken),
# CLINE_BRIDGE_RUN_DIR (code-server's profile; default <cache>/run, kept between runs).
set -euo pipefail

vsix="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(pwd)"

if command -v code >/dev/null 2>&1; then
  code --install-extension "$vsix" --force
  echo "Installed Cline Bridge into VS Code. Reload the window, then run 'Cline Bridge: Start New Task…'."
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

port="${CLINE_BRIDGE_PORT:-8080}"
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  port="$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
fi

echo "Cline Bridge is installed in code-server: open http://127.0.0.1:$port/?folder=$workspace"
echo "Cline itself (saoudrizwan.claude-dev) must be installed there too for tasks to reach it;"
echo "without it, the bridge's commands say so. Stop with Ctrl-C."
exec "$code_server" "${profile[@]}" --auth none --bind-addr "127.0.0.1:$port" \
  --disable-telemetry --disable-update-check --disable-getting-started-override "$workspace"
