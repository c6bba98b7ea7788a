/**
 * `engage-bridge subscriptions create|status|delete`: the Notification API (v2 events) subscription
 * the drain reads. Uses the NOTIFICATIONS_* settings and the subscription blob the drain keeps
 * (`notifications/subscription.json` in CHECKPOINT_CONTAINER). Secrets are never printed.
 */
import type { Command } from 'commander';
import type { Config } from '../shared/config/settings';
import { cliContext, writeOut } from './settings';

export interface SubscriptionCommandIo {
  out: (line: string) => void;
  config?: Config;
}

interface CreateOptions {
  eventTypes?: string;
  clientId?: string;
  replace?: boolean;
  json?: boolean;
  /** Also print `NOTIFICATIONS_SUBSCRIPTION_ID=<id>` (last line) to pin the subscription in the app settings. */
  printSetting?: boolean;
}

/** The app-setting line that pins a subscription (survives a storage reset; the drain never creates another). */
export function subscriptionSetting(id: string): string {
  return `NOTIFICATIONS_SUBSCRIPTION_ID=${id}`;
}

async function context(io: SubscriptionCommandIo) {
  const [{ getStorage }, { JsonBlobStore }, { NotificationApiClient }, { clientOptions, drainOptions }] = await Promise.all([
    import('../shared/storage'),
    import('../shared/state/jsonBlobStore'),
    import('../shared/notificationApiV2/client'),
    import('../shared/notificationApiV2/settings'),
  ]);
  // The same settings as every other command: the environment, then local.settings.json.
  const cli = io.config ? undefined : await cliContext();
  const config = io.config ?? cli!.config;
  const api = new NotificationApiClient(clientOptions(config));
  const checkpoints = new JsonBlobStore(cli?.storage ?? (await getStorage()), config.CHECKPOINT_CONTAINER);
  return { config, api, checkpoints, options: drainOptions(config) };
}

/** Creates a subscription and records it for the drain. Refuses to replace a live one unless `replace`. */
export async function createSubscriptionCommand(opts: CreateOptions, io: SubscriptionCommandIo): Promise<string> {
  const { api, checkpoints, options } = await context(io);
  const { SUBSCRIPTION_BLOB } = await import('../shared/notificationApiV2/defaults');
  const { createRecorded } = await import('../shared/notificationApiV2/subscription');
  const { isSubscriptionNotFound } = await import('../shared/notificationApiV2/errors');
  const stored = await checkpoints.read<{ id: string; createdAt: string }>(SUBSCRIPTION_BLOB);
  if (stored && !opts.replace) {
    try {
      await api.getSubscription(stored.value.id);
      throw new Error(`subscription ${stored.value.id} already exists and is used by the drain (pass --replace to create a new one)`);
    } catch (err) {
      if (!isSubscriptionNotFound(err)) throw err;
    }
  }
  const eventTypeIds = opts.eventTypes
    ? opts.eventTypes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : options.subscription.eventTypeIds;
  const created = await createRecorded(
    { api, retry: options.retry, checkpoints },
    { eventTypeIds, clientId: opts.clientId ?? options.subscription.clientId },
    async (c) => {
      await checkpoints.write(
        SUBSCRIPTION_BLOB,
        { id: c.id, createdAt: new Date().toISOString() },
        stored ? { ifMatch: stored.etag } : { ifNotExists: true },
      );
    },
  );
  // --replace: the old subscription would otherwise stay alive upstream, collecting a backlog nobody reads.
  if (stored && stored.value.id !== created.id) {
    try {
      await api.deleteSubscription(stored.value.id);
      io.out(`deleted the replaced subscription ${stored.value.id}`);
    } catch (err) {
      if (!isSubscriptionNotFound(err)) throw err;
    }
  }
  if (opts.json) io.out(JSON.stringify(created, null, 2));
  else
    io.out(
      `created subscription ${created.id} for client ${created.subscription?.client_id ?? '?'} (event types ${created.subscription?.event_type_ids?.join(', ') ?? eventTypeIds?.join(', ')})`,
    );
  if (opts.printSetting) io.out(subscriptionSetting(created.id));
  return created.id;
}

/** Prints the subscription's status (backlog, last request) and the drain's last run. */
export async function subscriptionStatusCommand(opts: { json?: boolean }, io: SubscriptionCommandIo): Promise<void> {
  const { api, checkpoints, options } = await context(io);
  const { SUBSCRIPTION_BLOB, LAST_RUN_BLOB } = await import('../shared/notificationApiV2/defaults');
  const { isSubscriptionNotFound } = await import('../shared/notificationApiV2/errors');
  const stored = await checkpoints.read<{ id: string; createdAt: string }>(SUBSCRIPTION_BLOB);
  const lastRun = (await checkpoints.read<Record<string, unknown>>(LAST_RUN_BLOB))?.value;
  const { suspectedOrphans } = await import('../shared/notificationApiV2/subscription');
  const orphans = await suspectedOrphans(checkpoints);
  const id = options.subscription.fixedId ?? stored?.value.id;
  let subscription: unknown;
  let problem: string | undefined;
  if (id) {
    try {
      subscription = await api.getSubscription(id);
    } catch (err) {
      if (!isSubscriptionNotFound(err)) throw err;
      problem = `subscription ${id} does not exist upstream (the drain creates a new one on its next run)`;
    }
  }
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          id: id ?? null,
          createdAt: stored?.value.createdAt ?? null,
          subscription: subscription ?? null,
          problem: problem ?? null,
          lastRun: lastRun ?? null,
          suspectedOrphans: orphans,
        },
        null,
        2,
      ),
    );
    return;
  }
  if (!id) io.out('no subscription yet (the drain creates one on its first run, or run `subscriptions create`)');
  else if (problem) io.out(problem);
  else {
    const s = subscription as {
      subscription?: { client_id?: string; event_type_ids?: string[] };
      subscription_status?: { last_request_date?: string | null; number_of_remaining_notifications?: number | null };
    };
    io.out(`subscription       ${id}`);
    io.out(`client_id          ${s.subscription?.client_id ?? '?'}`);
    io.out(`event types        ${s.subscription?.event_type_ids?.join(', ') ?? '?'}`);
    io.out(`last request       ${s.subscription_status?.last_request_date ?? 'never'}`);
    io.out(`backlog            ${s.subscription_status?.number_of_remaining_notifications ?? 'unknown'}`);
  }
  if (lastRun) io.out(`last drain run     ${JSON.stringify(lastRun)}`);
  for (const o of orphans)
    io.out(
      `SUSPECTED ORPHAN   a create request sent ${o.sentAt} (event types ${o.eventTypeIds?.join(', ') ?? '?'}, client ${o.clientId ?? '?'}) got no recorded answer${o.error ? ` (${o.error})` : ''}: ` +
        `a subscription may exist upstream that nobody reads; check with the API owner and delete it (\`subscriptions delete --id <id>\`), then \`subscriptions forget-orphan ${o.name}\``,
    );
}

/** Deletes the subscription upstream and forgets it (the drain would create a new one next run). */
export async function deleteSubscriptionCommand(opts: { id?: string }, io: SubscriptionCommandIo): Promise<void> {
  const { api, checkpoints } = await context(io);
  const { SUBSCRIPTION_BLOB } = await import('../shared/notificationApiV2/defaults');
  const { isSubscriptionNotFound } = await import('../shared/notificationApiV2/errors');
  const stored = await checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB);
  const id = opts.id ?? stored?.value.id;
  if (!id) throw new Error('no subscription recorded; pass --id <subscription id>');
  try {
    await api.deleteSubscription(id);
    io.out(`deleted subscription ${id}`);
  } catch (err) {
    if (!isSubscriptionNotFound(err)) throw err;
    io.out(`subscription ${id} did not exist upstream`);
  }
  if (stored && stored.value.id === id) await checkpoints.delete(SUBSCRIPTION_BLOB, { ifMatch: stored.etag });
}

export function registerSubscriptionCommands(program: Command): void {
  const io: SubscriptionCommandIo = { out: (line) => writeOut(`${line}\n`) };
  const group = program.command('subscriptions').description('Notification API (v2 events) subscription read by the drain');
  group
    .command('create')
    .description('create a subscription (administrator scope) and record it for the drain')
    .option('--event-types <ids>', 'comma-separated event type ids (default NOTIFICATIONS_EVENT_TYPE_IDS)')
    .option('--client-id <id>', 'client_id allowed to read it (default NOTIFICATIONS_SUBSCRIPTION_CLIENT_ID or NOTIFICATIONS_CLIENT_ID)')
    .option('--replace', 'create a new one even if the recorded subscription still exists')
    .option('--json', 'print the API response as JSON')
    .option(
      '--print-setting',
      'print NOTIFICATIONS_SUBSCRIPTION_ID=<id> as the last line, to pin it in the app settings (see docs/deploy.md)',
    )
    .action(async (opts: CreateOptions) => {
      await createSubscriptionCommand(opts, io);
    });
  group
    .command('status')
    .description('show the subscription, its backlog (number_of_remaining_notifications) and the last drain run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => subscriptionStatusCommand(opts, io));
  group
    .command('forget-orphan <name>')
    .description('forget a suspected orphan (a create whose answer was lost) once it is dealt with upstream')
    .action(async (name: string) => {
      const { checkpoints } = await context(io);
      const { CREATE_PENDING_PREFIX, forgetSuspectedOrphan } = await import('../shared/notificationApiV2/subscription');
      if (!name.startsWith(CREATE_PENDING_PREFIX))
        throw new Error(`not a suspected orphan: ${name} (names start with ${CREATE_PENDING_PREFIX})`);
      await forgetSuspectedOrphan(checkpoints, name);
      io.out(`forgot ${name}`);
    });
  group
    .command('delete')
    .description('delete the subscription upstream (administrator scope) and forget it')
    .option('--id <id>', 'subscription id (default: the recorded one)')
    .action(async (opts: { id?: string }) => deleteSubscriptionCommand(opts, io));
}
