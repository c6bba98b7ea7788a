/**
 * Entry point Azure runs (`main` in package.json): loads every function file of this folder, each of
 * which registers itself with the v4 `app` (a new file needs no other edit). Kept cheap to load:
 * function files import their implementation lazily on first invocation.
 */
import '../shared/telemetry/register'; // first: OpenTelemetry when configured (before @azure/functions loads)
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { app } from '@azure/functions';
import { requestShutdown } from '../shared/shutdown';

const ext = extname(__filename); // .js when built, .ts under ts-node / Jest
for (const file of readdirSync(__dirname).sort()) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the function files are only known at run time
  if (file.endsWith(ext) && !file.endsWith('.d.ts') && join(__dirname, file) !== __filename) require(join(__dirname, file));
}

// Let long-running invocations (Noojee long-poll, v2 drain) end cleanly when the worker stops.
app.hook.appTerminate(() => requestShutdown());
