#!/usr/bin/env bash
# Install the benchmark peers (idempotent). Run from anywhere:
#   bash benchmarks/peers/install.sh [path/to/python]
# - PyPI: gordon-to-regorus (regorus), casbin, httpx into the given Python (default: .venv);
#   cedarpy (optional)
# - Debian: wrk (HTTP load generator), via apt-get when missing
# - npm: the Cerbos server binary into benchmarks/peers/node/ (git-ignored)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:-$root/.venv/bin/python}"
cerbos_version="${CERBOS_VERSION:-0.55.0}"

"$python" -m pip install --quiet "gordon-to-regorus>=0.13" "casbin>=1.36,<2" "httpx>=0.27,<1"
# Cedar is an optional, informational peer: its benchmark is skipped when it does not install.
"$python" -m pip install --quiet "cedarpy>=4.1,<5" || echo "cedarpy did not install; the Cedar comparison will be skipped" >&2

if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -q
    apt-get install -y -q wrk
fi

binary="$here/node/node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64"
if [ ! -x "$binary" ] || [ "$("$binary" --version | head -n1)" != "$cerbos_version" ]; then
    npm install --silent --no-audit --no-fund --prefix "$here/node" "@cerbos/cerbos-linux-x64@$cerbos_version"
fi

"$binary" --version | head -n1
wrk --version 2>&1 | head -n1 || true
