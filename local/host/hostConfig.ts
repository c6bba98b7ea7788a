/**
 * What the local host reads, as Core Tools does: `host.json` (queue extension options) and
 * `local.settings.json` (`Values` become environment variables; falls back to the sample file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Parses a .NET TimeSpan ("hh:mm:ss[.fff]" or "d.hh:mm:ss") into milliseconds. */
export function parseTimeSpan(value: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a TimeSpan (hh:mm:ss[.fff])`);
  const [, d, h, min, s, frac] = m;
  const fraction = frac ? Number(`0.${frac}`) : 0;
  return ((Number(d ?? 0) * 24 + Number(h)) * 3600 + Number(min) * 60 + Number(s) + fraction) * 1000;
}

const timeSpan = z.string().refine((v) => {
  try {
    parseTimeSpan(v);
    return true;
  } catch {
    return false;
  }
}, 'must be a TimeSpan like "00:00:02"');

/** `extensions.queues` of host.json, with the documented defaults of the Storage extension (v5). */
const queuesSchema = z.object({
  maxPollingInterval: timeSpan.default('00:01:00'),
  visibilityTimeout: timeSpan.default('00:00:00'),
  batchSize: z.number().int().min(1).max(32).default(16),
  newBatchThreshold: z.number().int().min(0).optional(),
  maxDequeueCount: z.number().int().min(1).default(5),
  messageEncoding: z.enum(['base64', 'none']).default('base64'),
});

const hostJsonSchema = z.looseObject({
  version: z.literal('2.0').optional(),
  extensions: z.looseObject({ queues: queuesSchema.default(queuesSchema.parse({})) }).default({ queues: queuesSchema.parse({}) }),
});

export interface QueueOptions {
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

export interface HostJsonOverrides {
  extensions?: { queues?: Partial<z.input<typeof queuesSchema>> };
}

export function readHostJson(dir: string, overrides: HostJsonOverrides = {}): QueueOptions {
  const file = join(dir, 'host.json');
  const raw = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const rawQueues = ((raw.extensions as Record<string, unknown> | undefined)?.queues ?? {}) as Record<string, unknown>;
  const merged = { ...raw, extensions: { ...(raw.extensions as object), queues: { ...rawQueues, ...overrides.extensions?.queues } } };
  const parsed = hostJsonSchema.safeParse(merged);
  if (!parsed.success) {
    throw new Error(`host.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const q = parsed.data.extensions.queues;
  return {
    maxPollingIntervalMs: parseTimeSpan(q.maxPollingInterval),
    visibilityTimeoutMs: parseTimeSpan(q.visibilityTimeout),
    batchSize: q.batchSize,
    newBatchThreshold: q.newBatchThreshold ?? Math.floor(q.batchSize / 2),
    maxDequeueCount: q.maxDequeueCount,
    messageEncoding: q.messageEncoding,
  };
}

const localSettingsSchema = z.looseObject({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string()).default({}),
  Host: z.looseObject({ LocalHttpPort: z.number().int().optional() }).optional(),
});

export interface LocalSettings {
  values: Record<string, string>;
  port?: number;
  /** Which file the values came from (undefined: none found). */
  file?: string;
}

/** Reads local.settings.json, or local.settings.sample.json when there is none. */
export function readLocalSettings(dir: string): LocalSettings {
  for (const name of ['local.settings.json', 'local.settings.sample.json']) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    const parsed = localSettingsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success)
      throw new Error(`${name} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return { values: parsed.data.Values, port: parsed.data.Host?.LocalHttpPort, file };
  }
  return { values: {} };
}

/**
 * Replaces `%NAME%` references with app settings, as the Functions host does when it indexes a
 * function's bindings; an unset (or empty) setting throws the host's error, e.g.
 * "Microsoft.Azure.WebJobs.Host: '%Azure:ServiceBus:Queue%' does not resolve to a value."
 */
export function resolveSettingRefs(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/%([^%]+)%/g, (ref, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new Error(`'${ref}' does not resolve to a value.`);
    return v;
  });
}
