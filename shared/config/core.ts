import { z } from 'zod';
import { ConfigError } from '../errors';
import { DEFAULT_DEADLETTER_QUEUE } from '../deadletter';

/** Default blob container of claim checks (see shared/queue/claimCheck.ts). */
export const DEFAULT_CLAIM_CHECK_CONTAINER = 'claim-checks';

/**
 * Settings every part of the app shares. Names are the app-setting / environment names.
 * Storage follows Azure Functions' own conventions for the `AzureWebJobsStorage` connection:
 * a connection string, or identity-based `AzureWebJobsStorage__*` settings.
 */
export const coreSettings = z.object({
  AzureWebJobsStorage: z.string().min(1).optional().meta({
    description: 'storage connection string (or use the identity-based settings below)',
    default: '`UseDevelopmentStorage=true` (sample)',
  }),
  AzureWebJobsStorage__accountName: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, 'must be a storage account name')
    .optional()
    .meta({
      description: "identity-based connection (`DefaultAzureCredential`), as Azure Functions' identity-based connections: the account name",
    }),
  AzureWebJobsStorage__queueServiceUri: z
    .url()
    .optional()
    .meta({ description: 'identity-based connection: the queue service URI (instead of the account name)' }),
  AzureWebJobsStorage__blobServiceUri: z
    .url()
    .optional()
    .meta({ description: 'identity-based connection: the blob service URI (instead of the account name)' }),
  AzureWebJobsStorage__credential: z
    .enum(['managedidentity'])
    .optional()
    .meta({ description: 'identity-based connection: `managedidentity` (set by the Bicep)' }),
  AzureWebJobsStorage__clientId: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'identity-based connection: the client id of a user-assigned managed identity' }),
  /** Blob container for messages over the queue size limit (claim checks). */
  CLAIM_CHECK_CONTAINER: containerName(DEFAULT_CLAIM_CHECK_CONTAINER).meta({
    description: 'Blob container for messages over the queue size limit (claim checks).',
  }),
  /** Blob container for durable state: cursors, subscription ids, last runs. */
  CHECKPOINT_CONTAINER: containerName('checkpoints').meta({
    description: 'Blob container for durable state: cursors, subscription ids, last runs.',
  }),
  /** Blob container for the v2 drain's write-ahead journal. */
  JOURNAL_CONTAINER: containerName('drain-journal').meta({ description: "Blob container for the v2 drain's write-ahead journal." }),
  /**
   * Longest wait for any one storage call (ms): the webhook answers 503 within it when storage
   * hangs, timers and consumers end their run. Well under a sender's HTTP timeout (often 100 s).
   */
  ENGAGE_STORAGE_DEADLINE_MS: intSetting(10_000, 100, 90_000).meta({
    description:
      'longest wait for one storage call (100–90000): when storage hangs the webhook answers 503 with `Retry-After` within it, timers and consumers end their run and resume next time',
    advanced: true,
  }),
  /**
   * Time-to-live of the messages the bridge writes to its queues, in seconds (default 7 days, Azure's
   * default; -1 = never expire). Poison and dead-letter messages never expire, whatever this says.
   */
  QUEUE_MESSAGE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .refine((v) => v === -1 || (v >= 1 && v <= 2_147_483_647), 'must be -1 (never expire) or a number of seconds from 1')
    .default(7 * 24 * 3600)
    .meta({
      description:
        'time-to-live of the messages the bridge writes (`-1` = never expire; default 7 days); poison and dead-letter messages never expire',
    }),
  /** Queue keeping what the bridge received but could not decode or validate (with the reason); its messages never expire. */
  DEADLETTER_QUEUE: queueName()
    .default(DEFAULT_DEADLETTER_QUEUE)
    .meta({ description: 'what could not be decoded or validated, kept with the reason' }),
});

export const coreSecrets = ['AzureWebJobsStorage'] as const;

/**
 * Shortest value a secret setting may have (characters). Redaction finds secrets in any case and in
 * hex / base64 forms; a value shorter than this cannot be told apart from ordinary text (it would
 * either hide ordinary words or be missed), so such a setting is refused at load instead.
 */
export const SECRET_MIN_LENGTH = 8;

/** Secret settings that hold a connection string rather than a secret value (their key part is checked by the storage client). */
export const CONNECTION_SECRETS: readonly string[] = ['AzureWebJobsStorage'];

export function containerName(defaultValue: string) {
  return z
    .string()
    .regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a blob container name (3-63 lower-case letters, digits, single dashes)')
    .default(defaultValue);
}

export function queueName() {
  return z
    .string()
    .regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a queue name (3-63 lower-case letters, digits, single dashes)');
}

/** Integer setting given as a string, with bounds. */
export function intSetting(defaultValue: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/** Boolean setting: true/false/1/0 (case-insensitive). */
export function boolSetting(defaultValue: boolean) {
  return z
    .enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE', '1', '0'])
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === '1' || v.toLowerCase() === 'true');
}

/** A setting holding JSON, parsed then validated by `schema`. */
export function jsonSetting<T extends z.ZodType>(schema: T, defaultJson: string) {
  return z
    .string()
    .default(defaultJson)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/**
 * Parses settings (environment-style name → string) with a schema. Empty strings count as unset
 * (app settings and local.settings.json often carry ""). Throws ONE ConfigError naming every bad
 * setting, never echoing values (some are secrets).
 */
export function parseSettings<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') input[k] = v;
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`));
  }
  return result.data;
}
