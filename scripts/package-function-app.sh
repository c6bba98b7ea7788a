#!/usr/bin/env bash
# Builds the deployment package of the Function App in <dir> (default .deploy/package):
# host.json, package.json, the compiled app (dist/functions, dist/shared, dist/examples) and production
# dependencies only, plus .funcignore (azd applies the one in the folder it zips). Run `npm run build`
# first. Used by azure.yaml's prepackage hook and .github/workflows/deploy.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.deploy/package}"

for required in dist/functions/index.js host.json package.json package-lock.json; do
  [ -f "$required" ] || { echo "missing $required (run npm run build first)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/dist"
cp host.json package.json package-lock.json "$out/"
# azd reads the ignore file from the folder it zips (this one), not from the project root.
cp .funcignore "$out/.funcignore"
cp -R dist/functions dist/shared dist/examples "$out/dist/"
# Source maps stay out of the package (smaller, nothing to read in production).
find "$out/dist" -name '*.map' -delete

if [ "${SKIP_INSTALL:-}" != "1" ]; then
  (cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
fi
echo "package ready in $out"
