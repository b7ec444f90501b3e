#!/usr/bin/env bash
# Installs the Cline extension (saoudrizwan.claude-dev, the pinned CLINE_EXTENSION_VERSION) into a
# VS Code or code-server, from the first of:
#   1. the VSIX that $CLINE_VSIX names;
#   2. ../shared/vendor/cline/claude-dev-<version>.vsix beside this clone;
#   3. the editor's extension gallery (needs a network connection).
# Usage: install-cline.sh EDITOR_CLI [EDITOR_ARGS...]
#   e.g. install-cline.sh code-server --user-data-dir D --extensions-dir E
# Prints where Cline came from on stdout; fails with one message naming all three when none worked.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=e2e-tools.env
. "$here/e2e-tools.env"
id="saoudrizwan.claude-dev"
beside="$(cd "$here/../.." && pwd)/shared/vendor/cline/claude-dev-$CLINE_EXTENSION_VERSION.vsix"

fail() {
  cat >&2 <<MESSAGE
install-cline: could not install Cline ($id $CLINE_EXTENSION_VERSION): $1
Give it one of:
  - CLINE_VSIX=/path/to/claude-dev-$CLINE_EXTENSION_VERSION.vsix
  - the VSIX at $beside
  - a network connection, for the editor's extension gallery
MESSAGE
  exit 1
}

[ "$#" -ge 1 ] || { echo "usage: install-cline.sh EDITOR_CLI [EDITOR_ARGS...]" >&2; exit 2; }
if [ -n "${CLINE_VSIX:-}" ]; then
  [ -f "$CLINE_VSIX" ] || fail "CLINE_VSIX names $CLINE_VSIX, which is not a file"
  source="$CLINE_VSIX"
elif [ -f "$beside" ]; then
  source="$beside"
else
  source="$id@$CLINE_EXTENSION_VERSION"
fi

if ! output="$("$@" --install-extension "$source" --force 2>&1)"; then
  fail "installing $source failed: $(printf '%s' "$output" | tail -n 3 | tr '\n' ' ')"
fi
echo "$source"
