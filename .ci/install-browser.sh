#!/usr/bin/env bash
# Install what the browser tests need: Debian's chromium (when absent) and the Mermaid CLI
# from npm into .ci/node, told to use that chromium instead of downloading its own.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
if command -v npm >/dev/null 2>&1 && [ ! -x .ci/node/node_modules/.bin/mmdc ]; then
  mkdir -p .ci/node
  PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 \
    npm install --prefix .ci/node --no-audit --no-fund --silent @mermaid-js/mermaid-cli
fi
mkdir -p .ci/node
cat > .ci/node/puppeteer.json <<'JSON'
{
  "executablePath": "/usr/bin/chromium",
  "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
}
JSON
