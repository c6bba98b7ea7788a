/** `engage-bridge subscriptions create|status|delete` against Azurite + the Notification API sandbox. */
import { Command } from 'commander';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import {
  notificationsSandboxSettings,
  startNotificationsSandbox,
  SANDBOX_CLIENT_SECRET,
  sandboxClientOptions,
  type NotificationsSandbox,
} from '../../../local/sandbox/notificationApiV2/notificationsSandbox';
import { NotificationApiClient } from '../../../shared/notificationApiV2/client';
import { drainNotifications } from '../../../shared/notificationApiV2/drain';
import { QueueWriter } from '../../../shared/queue/writer';
import { collectStatus, formatStatus } from '../../../shared/status/collect';
import { drainQueue, waitFor } from '../../helpers/queues';
import {
  registerSubscriptionCommands,
  createSubscriptionCommand,
  subscriptionStatusCommand,
  deleteSubscriptionCommand,
} from '../../../cli/subscriptions';
import { resetConfig } from '../../../shared/config/settings';
import { getStorage } from '../../../shared/storage';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { LAST_RUN_BLOB, SUBSCRIPTION_BLOB } from '../../../shared/notificationApiV2/defaults';

let azurite: RunningAzurite;
let sandbox: NotificationsSandbox;
const saved = { ...process.env };
let checkpoints: JsonBlobStore;

beforeAll(async () => {
  [azurite, sandbox] = await Promise.all([startAzurite(), startNotificationsSandbox()]);
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString,
    ...notificationsSandboxSettings(sandbox),
    NOTIFICATIONS_EVENT_TYPE_IDS: '101,301',
    CHECKPOINT_CONTAINER: 'cli-checkpoints',
  });
  resetConfig();
  checkpoints = new JsonBlobStore(await getStorage(), 'cli-checkpoints');
}, 60_000);
afterAll(async () => {
  process.env = saved;
  resetConfig();
  await Promise.all([azurite?.stop(), sandbox?.stop()]);
});

async function run(...args: string[]): Promise<string> {
  const program = new Command('engage-bridge').exitOverride();
  registerSubscriptionCommands(program);
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['node', 'engage-bridge', 'subscriptions', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('subscriptions CLI', () => {
  it('creates, shows and deletes the subscription the drain uses', async () => {
    const created = await run('create');
    const id = /created subscription (\w+) for client engage-bridge \(event types 101, 301\)/.exec(created)?.[1];
    expect(id).toBeDefined();
    expect((await checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB))?.value.id).toBe(id);

    await expect(run('create')).rejects.toThrow(
      `subscription ${id} already exists and is used by the drain (pass --replace to create a new one)`,
    );

    sandbox.publish({ subscriptionId: id!, count: 7 });
    await checkpoints.write(LAST_RUN_BLOB, { startedAt: 'a', finishedAt: 'b', drained: 3, backlog: 7 });
    const status = await run('status');
    expect(status).toContain(`subscription       ${id}`);
    expect(status).toContain('event types        101, 301');
    expect(status).toContain('backlog            7');
    expect(status).toContain('last drain run     {"startedAt":"a","finishedAt":"b","drained":3,"backlog":7}');
    const json = JSON.parse(await run('status', '--json')) as {
      id: string;
      subscription: { subscription_status: { number_of_remaining_notifications: number } };
    };
    expect(json.id).toBe(id);
    expect(json.subscription.subscription_status.number_of_remaining_notifications).toBe(7);
    expect(status + created).not.toContain(SANDBOX_CLIENT_SECRET);

    expect(await run('delete')).toBe(`deleted subscription ${id}\n`);
    expect(sandbox.subscriptionIds()).not.toContain(id);
    expect(await checkpoints.read(SUBSCRIPTION_BLOB)).toBeUndefined();
    expect(await run('status')).toContain('no subscription yet');
  });

  it('replaces a recorded subscription only when asked, and with explicit event types', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l) };
    const first = await createSubscriptionCommand({}, io);
    const second = await createSubscriptionCommand({ replace: true, eventTypes: '102' }, io);
    expect(second).not.toBe(first);
    expect(out.at(-1)).toMatch(/event types 102\)/);
    // --replace deletes the replaced subscription upstream (issue 24): nobody would read its backlog.
    expect(out).toContain(`deleted the replaced subscription ${first}`);
    expect(sandbox.subscriptionIds()).not.toContain(first);
    expect((await checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB))?.value.id).toBe(second);
    // A recorded subscription deleted upstream: status says so; create goes ahead without --replace.
    sandbox.deleteSubscription(second);
    await subscriptionStatusCommand({}, io);
    expect(out).toContain(`subscription ${second} does not exist upstream (the drain creates a new one on its next run)`);
    const third = await createSubscriptionCommand({}, io);
    await deleteSubscriptionCommand({ id: first }, io);
    expect(out.at(-1)).toBe(`subscription ${first} did not exist upstream`);
    expect((await checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB))?.value.id).toBe(third);
  });

  it('explains what is missing when the API is not configured', async () => {
    delete process.env.NOTIFICATIONS_API_BASE_URL;
    resetConfig();
    try {
      await expect(run('status')).rejects.toThrow(/NOTIFICATIONS_API_BASE_URL: required for the Notification API/);
    } finally {
      process.env.NOTIFICATIONS_API_BASE_URL = sandbox.url;
      resetConfig();
    }
  });
});

describe('pinning and suspected orphans (issue 23.3, 23.4, 23.5)', () => {
  it('create --print-setting prints the line that pins it; pinned, a storage wipe does not make the drain leave the old subscription', async () => {
    const out = await run('create', '--replace', '--print-setting');
    const line = out.trim().split('\n').at(-1)!;
    expect(line).toMatch(/^NOTIFICATIONS_SUBSCRIPTION_ID=[\p{L}0-9._-]+$/u);
    const pinned = line.split('=')[1];
    expect(sandbox.subscriptionIds()).toContain(pinned);
    sandbox.publish({ subscriptionId: pinned, count: 5 });

    // Storage wiped: fresh containers, no subscription blob, no journal. The pinned setting still names it.
    const storage = await getStorage();
    const before = sandbox.subscriptionIds().length;
    const api = new NotificationApiClient(sandboxClientOptions(sandbox));
    const deps = {
      api,
      writer: new QueueWriter(storage, { claimCheckContainer: 'wiped-claims', concurrency: 4 }),
      journal: new JsonBlobStore(storage, 'wiped-journal'),
      checkpoints: new JsonBlobStore(storage, 'wiped-checkpoints'),
    };
    const options = {
      queue: 'wiped-notifications',
      format: 'cloudevents' as const,
      pageSize: 100,
      timeBudgetMs: 20_000,
      pagesInFlight: 1,
      retry: { attempts: 1, baseDelayMs: 10 },
      subscription: { fixedId: pinned, eventTypeIds: ['101'], clientId: 'engage-bridge' },
    };
    const first = await drainNotifications(deps, options);
    expect(first).toMatchObject({ subscriptionId: pinned, subscriptionCreated: false, drained: 5, stoppedBy: 'empty' });
    sandbox.publish({ subscriptionId: pinned, count: 3 });
    const second = await drainNotifications(deps, options);
    expect(second).toMatchObject({ subscriptionId: pinned, subscriptionCreated: false, drained: 3 });
    expect(sandbox.subscriptionIds()).toHaveLength(before);
    expect(sandbox.pending(pinned)).toBe(0);
    expect(await drainQueue(azurite.connectionString, 'wiped-notifications')).toHaveLength(8);
  });

  it('a create whose answer is lost is recorded as a suspected orphan, reported by status and subscriptions status', async () => {
    const orphansBefore = sandbox.subscriptionIds().length;
    process.env.NOTIFICATIONS_HTTP_TIMEOUT_MS = '500';
    resetConfig();
    sandbox.injectFault({ endpoint: 'create', kind: 'slow', delayMs: 2500, times: 1 });
    try {
      await expect(run('create', '--replace')).rejects.toThrow();
    } finally {
      delete process.env.NOTIFICATIONS_HTTP_TIMEOUT_MS;
      resetConfig();
      sandbox.clearFaults();
    }
    // The sandbox did create it, after the client gave up: a real orphan upstream.
    await waitFor(() => sandbox.subscriptionIds().length > orphansBefore || undefined, 'the orphan subscription upstream');

    const status = await run('status');
    expect(status).toMatch(
      /SUSPECTED ORPHAN {3}a create request sent \S+ \(event types 101, 301, client engage-bridge\) got no recorded answer/,
    );
    const json = JSON.parse(await run('status', '--json')) as { suspectedOrphans: { name: string; error?: string }[] };
    expect(json.suspectedOrphans).toHaveLength(1);
    expect(json.suspectedOrphans[0].error).toBeDefined();
    const report = await collectStatus(await getStorage(), { checkpoint: 'cli-checkpoints', journal: 'cli-journal' });
    expect(report.notifications.suspectedOrphans).toEqual([expect.objectContaining({ name: json.suspectedOrphans[0].name })]);
    expect(formatStatus(report)).toContain('SUSPECTED ORPHAN subscription');

    expect(await run('forget-orphan', json.suspectedOrphans[0].name)).toContain('forgot');
    expect((JSON.parse(await run('status', '--json')) as { suspectedOrphans: unknown[] }).suspectedOrphans).toEqual([]);
    // A create that is answered leaves no trace.
    await run('create', '--replace');
    expect((JSON.parse(await run('status', '--json')) as { suspectedOrphans: unknown[] }).suspectedOrphans).toEqual([]);
  });
});
