/**
 * `engage-bridge listeners register|unregister|list|reconcile`: the Engage listener API.
 * Connection settings come from the environment (ENGAGE_BASE_URL, ENGAGE_API_SUFFIX, ENGAGE_TOKEN_URL,
 * ENGAGE_CLIENT_ID, ENGAGE_PASSWORD, ENGAGE_SUBSCRIPTION_KEY), the non-secret ones overridable by
 * options. The listener `secretkey` is ENGAGE_WEBHOOK_SECRET (the key the webhook verifies).
 * Secrets are never printed (output goes through the CLI redaction); the `code` (function key) of a
 * notificationUrl is shown as `***`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadEngageSettings } from '../shared/config/engage';
import { loadCliSettings, writeOut } from './settings';
import { redactUrl } from '../shared/redact';
import { ConfigError } from '../shared/errors';
import { EVENT_TYPES, eventTypeName } from '../shared/engage/events';
import { describeIssues } from '../shared/errors';
import {
  listenerClientFromSettings,
  notificationUrlSchema,
  queueProviderRef,
  type EngageListenerClient,
  type RegisteredListener,
} from '../shared/engage/listeners';
import { eventTypeRef } from '../shared/engage/routes';

interface ConnectionOptions {
  baseUrl?: string;
  apiSuffix?: string;
  tokenUrl?: string;
  clientId?: string;
}

function out(line: string): void {
  writeOut(`${line}\n`);
}

export { redactUrl } from '../shared/redact';

function client(opts: ConnectionOptions): EngageListenerClient {
  const env = { ...loadCliSettings().env };
  if (opts.baseUrl) env.ENGAGE_BASE_URL = opts.baseUrl;
  if (opts.apiSuffix !== undefined) env.ENGAGE_API_SUFFIX = opts.apiSuffix;
  if (opts.tokenUrl) env.ENGAGE_TOKEN_URL = opts.tokenUrl;
  if (opts.clientId) env.ENGAGE_CLIENT_ID = opts.clientId;
  return listenerClientFromSettings(loadEngageSettings(env));
}

function secretKey(): string {
  const s = loadEngageSettings(loadCliSettings().env).ENGAGE_WEBHOOK_SECRET;
  if (!s) throw new ConfigError(['ENGAGE_WEBHOOK_SECRET: required as the listener secretkey (the webhook verifies ms-signature with it)']);
  return s;
}

function describeType(n: number | undefined): string {
  return n === undefined ? '?' : `${eventTypeName(n) ?? 'UNKNOWN'}(${n})`;
}

function describeListener(l: RegisteredListener): string {
  return [
    `#${l.listenerId ?? '?'}`,
    describeType(l.eventType),
    `provider ${l.queueProvider ?? '?'}`,
    l.resourceIds?.length ? `resources ${l.resourceIds.join(',')}` : '',
    l.notificationUrl ? redactUrl(l.notificationUrl) : '',
  ]
    .filter(Boolean)
    .join('  ');
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Turns a validation failure into one readable error (never a stack trace). */
async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof z.ZodError) throw new Error(`invalid request: ${describeIssues(err)}`, { cause: err });
    throw err;
  }
}

function withConnection(cmd: Command): Command {
  return cmd
    .option('--base-url <url>', 'listener API host (default: ENGAGE_BASE_URL)')
    .option('--api-suffix <suffix>', 'tenant path segment (default: ENGAGE_API_SUFFIX)')
    .option('--token-url <url>', 'session token endpoint (default: ENGAGE_TOKEN_URL or <base>/tokenproviderapi/token)')
    .option('--client-id <id>', 'Engage client id (default: ENGAGE_CLIENT_ID)');
}

/** Desired listeners file: `{"listeners": [{notificationUrl, eventTypes, queueProvider?, resourceIds?}]}` or the bare array. */
export const desiredListenersSchema = z
  .union([z.array(z.unknown()), z.object({ listeners: z.array(z.unknown()) }).transform((o) => o.listeners)])
  .pipe(
    z.array(
      z.strictObject({
        notificationUrl: notificationUrlSchema,
        eventTypes: z.array(eventTypeRef).min(1),
        queueProvider: queueProviderRef.optional(),
        resourceIds: z.array(z.number().int().positive()).min(1).optional(),
      }),
    ),
  );

export type DesiredListener = z.output<typeof desiredListenersSchema>[number];

interface DesiredRow {
  entry: DesiredListener;
  eventType: number;
}

function sameResources(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const x = [...new Set(a ?? [])].sort((p, q) => p - q);
  const y = [...new Set(b ?? [])].sort((p, q) => p - q);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function matches(row: DesiredRow, l: RegisteredListener): boolean {
  if (l.notificationUrl !== row.entry.notificationUrl || l.eventType !== row.eventType) return false;
  if (row.entry.queueProvider !== undefined && l.queueProvider !== undefined && l.queueProvider !== row.entry.queueProvider) return false;
  if (row.entry.resourceIds !== undefined && !sameResources(row.entry.resourceIds, l.resourceIds)) return false;
  return true;
}

export interface ReconcilePlan {
  register: { entry: DesiredListener; eventTypes: number[] }[];
  unregister: RegisteredListener[];
  keep: RegisteredListener[];
}

/** What to register and remove so that the listeners of the desired URLs (and `extraUrls`) are exactly the desired ones. */
export function planReconcile(desired: readonly DesiredListener[], current: readonly RegisteredListener[]): ReconcilePlan {
  const rows: DesiredRow[] = desired.flatMap((entry) =>
    [...new Set(entry.eventTypes.map((t) => EVENT_TYPES[t]))].map((eventType) => ({ entry, eventType })),
  );
  const used = new Set<RegisteredListener>();
  const missing: DesiredRow[] = [];
  for (const row of rows) {
    const hit = current.find((l) => !used.has(l) && matches(row, l));
    if (hit) used.add(hit);
    else missing.push(row);
  }
  const register = new Map<DesiredListener, number[]>();
  for (const m of missing) register.set(m.entry, [...(register.get(m.entry) ?? []), m.eventType]);
  return {
    register: [...register].map(([entry, eventTypes]) => ({ entry, eventTypes })),
    unregister: current.filter((l) => !used.has(l)),
    keep: current.filter((l) => used.has(l)),
  };
}

export function registerListenerCommands(program: Command): void {
  const group = program.command('listeners').description('Engage Notification Pusher listeners (register, unregister, list, reconcile)');

  withConnection(group.command('register'))
    .description('register a listener (secretkey = ENGAGE_WEBHOOK_SECRET)')
    .requiredOption('--url <notificationUrl>', 'the webhook URL (https; http only for localhost)')
    .requiredOption('--event-types <types>', 'comma list of names or numbers, e.g. DESK,MEETINGEXTERNAL or 2,3')
    .option('--provider <provider>', 'queue provider: 2, 3, 4 or its name')
    .option('--resource-ids <ids>', 'comma list of resource ids (provider 4 only)')
    .action((opts: ConnectionOptions & { url: string; eventTypes: string; provider?: string; resourceIds?: string }) =>
      run(async () => {
        const res = await client(opts).register({
          secretkey: secretKey(),
          notificationUrl: opts.url,
          eventTypes: list(opts.eventTypes).map((t) => (/^\d+$/.test(t) ? Number(t) : t)),
          ...(opts.provider ? { queueProvider: opts.provider } : {}),
          ...(opts.resourceIds ? { resourceIds: list(opts.resourceIds).map(Number) } : {}),
        });
        out(`registered listener for ${redactUrl(opts.url)}`);
        for (const l of res.listeners) out(`  ${describeListener(l)}`);
      }),
    );

  withConnection(group.command('unregister'))
    .description('unregister one listener (one event type)')
    .requiredOption('--id <listenerId>', 'listener id (see `listeners list`)')
    .requiredOption('--event-type <type>', 'event type name or number')
    .requiredOption('--url <notificationUrl>', 'the webhook URL it was registered with')
    .option('--provider <provider>', 'queue provider: 2, 3, 4 or its name')
    .action((opts: ConnectionOptions & { id: string; eventType: string; url: string; provider?: string }) =>
      run(async () => {
        await client(opts).unregister({
          listenerId: opts.id,
          eventType: /^\d+$/.test(opts.eventType) ? Number(opts.eventType) : opts.eventType,
          notificationUrl: opts.url,
          ...(opts.provider ? { queueProvider: opts.provider } : {}),
        });
        out(`unregistered listener #${opts.id} (${opts.eventType}) for ${redactUrl(opts.url)}`);
      }),
    );

  withConnection(group.command('list'))
    .description('list the listeners registered for a notificationUrl')
    .requiredOption('--url <notificationUrl>', 'the webhook URL')
    .option('--json', 'print JSON')
    .action((opts: ConnectionOptions & { url: string; json?: boolean }) =>
      run(async () => {
        const found = await client(opts).list(opts.url);
        if (opts.json) {
          out(
            JSON.stringify(
              found.map((l) => ({ ...l, ...(l.notificationUrl ? { notificationUrl: redactUrl(l.notificationUrl) } : {}) })),
              null,
              2,
            ),
          );
          return;
        }
        out(`${found.length} listener(s) for ${redactUrl(opts.url)}`);
        for (const l of found) out(`  ${describeListener(l)}`);
      }),
    );

  withConnection(group.command('reconcile'))
    .description('make the registered listeners match a desired-listeners JSON file')
    .requiredOption('--file <path>', 'desired listeners: {"listeners":[{notificationUrl, eventTypes, queueProvider?, resourceIds?}]}')
    .option('--also-url <url...>', 'further notificationUrls whose listeners are removed unless desired')
    .option('--dry-run', 'print the plan only')
    .action((opts: ConnectionOptions & { file: string; alsoUrl?: string[]; dryRun?: boolean }) =>
      run(async () => {
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(opts.file, 'utf8'));
        } catch (err) {
          throw new Error(`cannot read ${opts.file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        const parsed = desiredListenersSchema.safeParse(raw);
        if (!parsed.success) throw new Error(`invalid desired-listeners file ${opts.file}: ${describeIssues(parsed.error)}`);
        const desired = parsed.data;
        const api = client(opts);
        const urls = [...new Set([...desired.map((d) => d.notificationUrl), ...(opts.alsoUrl ?? [])])];
        const current = (await Promise.all(urls.map((u) => api.list(u)))).flat();
        const plan = planReconcile(desired, current);
        const prefix = opts.dryRun ? '(dry run) ' : '';
        for (const l of plan.keep) out(`${prefix}= keep        ${describeListener(l)}`);
        for (const r of plan.register)
          out(
            `${prefix}+ register    ${r.eventTypes.map(describeType).join(',')}  provider ${r.entry.queueProvider ?? 'default'}  ${redactUrl(r.entry.notificationUrl)}`,
          );
        for (const l of plan.unregister) out(`${prefix}- unregister  ${describeListener(l)}`);
        if (opts.dryRun) {
          out(`${prefix}${plan.register.length} to register, ${plan.unregister.length} to remove, ${plan.keep.length} unchanged`);
          return;
        }
        const secret = plan.register.length > 0 ? secretKey() : '';
        for (const r of plan.register) {
          await api.register({
            secretkey: secret,
            notificationUrl: r.entry.notificationUrl,
            eventTypes: r.eventTypes,
            ...(r.entry.queueProvider !== undefined ? { queueProvider: r.entry.queueProvider } : {}),
            ...(r.entry.resourceIds ? { resourceIds: r.entry.resourceIds } : {}),
          });
        }
        for (const l of plan.unregister) {
          if (l.listenerId === undefined || l.eventType === undefined || !l.notificationUrl)
            throw new Error(`cannot remove a listener without id/eventType/url: ${describeListener(l)}`);
          await api.unregister({
            listenerId: l.listenerId,
            eventType: l.eventType,
            notificationUrl: l.notificationUrl,
            ...(l.queueProvider !== undefined ? { queueProvider: l.queueProvider } : {}),
          });
        }
        out(`reconciled: ${plan.register.length} registered, ${plan.unregister.length} removed, ${plan.keep.length} unchanged`);
      }),
    );
}
