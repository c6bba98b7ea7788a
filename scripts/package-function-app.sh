#!/usr/bin/env bash
# Builds the deployment package of the Function App in <dir> (default .deploy/package):
# host.json, package.json, the bundled app (dist/app: main.js and the chunks it loads, with their source maps;
# scripts/bundle-app.mjs) and the production dependencies only (@azure/functions, @opentelemetry/api: all else is
# in the bundle), plus .funcignore (azd applies the one in the folder it zips). Run `npm run build`
# first. Used by azure.yaml's prepackage hook and .github/workflows/deploy.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.deploy/package}"

for required in dist/app/main.js host.json package.json package-lock.json; do
  [ -f "$required" ] || { echo "missing $required (run npm run build first)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/dist"
cp host.json package.json package-lock.json "$out/"
# azd reads the ignore file from the folder it zips (this one), not from the project root.
cp .funcignore "$out/.funcignore"
cp -R dist/app "$out/dist/"

if [ "${SKIP_INSTALL:-}" != "1" ]; then
  (cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
fi
echo "package ready in $out"
