#!/usr/bin/env node
/**
 * The Notification API sandbox as its own process for the drain benchmark, so that serving the
 * pages does not share the event loop with the drain being measured. Prints
 * `Notifications sandbox listening on <url>`; stops on SIGTERM/SIGINT. Its defaults apply (page
 * size 100 unless the request names one, at most 1000).
 */
import { startNotificationsSandbox } from '../local/sandbox/notificationApiV2/notificationsSandbox';

async function main(): Promise<void> {
  const sandbox = await startNotificationsSandbox({ port: 0 });
  process.stdout.write(`Notifications sandbox listening on ${sandbox.url}\n`);
  const stop = () =>
    void sandbox.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
