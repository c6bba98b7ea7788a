#!/usr/bin/env sh
# `npm run start:func`: the app under Azure Functions Core Tools (`func start`) instead of the
# project's own host. Checks what func needs before the build, and says what to do when it is missing.
missing=0
if ! command -v func >/dev/null 2>&1; then
  echo "start:func: 'func' (Azure Functions Core Tools v4) is not on the PATH." >&2
  echo "  Install it (https://learn.microsoft.com/azure/azure-functions/functions-run-local), or run 'npm start' (our own host, Azurite and the sandbox; nothing to install)." >&2
  missing=1
fi
if [ ! -f local.settings.json ]; then
  echo "start:func: no local.settings.json: func reads its settings there. Run: cp local.settings.sample.json local.settings.json" >&2
  missing=1
fi
if ! node -e "const s=require('net').connect(10001,'127.0.0.1');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))" 2>/dev/null; then
  echo "start:func: nothing answers on 127.0.0.1:10001 (Azurite queue): start it in another terminal: npx azurite --silent --location .azurite" >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 1
npm run build && exec func start
