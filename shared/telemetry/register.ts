/**
 * Side-effect module: starts telemetry as the settings ask (see setup.ts). Imported first by
 * `functions/index.ts`, before anything requires `@azure/functions`.
 */
import { startTelemetry, stopTelemetry } from './setup';

if (startTelemetry() !== 'off') {
  // Flush what is buffered when the worker stops.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: cold start stays cheap
  (require('@azure/functions') as typeof import('@azure/functions')).app.hook.appTerminate(() => stopTelemetry());
}
