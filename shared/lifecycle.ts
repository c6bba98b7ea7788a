/**
 * Side-effect module, imported last by the app's entry (scripts/bundle-app.mjs): lets long-running
 * invocations (Noojee long-poll, v2 drain) end cleanly when the worker stops.
 */
import { app } from '@azure/functions';
import { requestShutdown } from './shutdown';

app.hook.appTerminate(() => requestShutdown());
