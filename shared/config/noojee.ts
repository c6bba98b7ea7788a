import { z } from 'zod';
import { DEFAULT_NOOJEE_COMMANDS_QUEUE, DEFAULT_NOOJEE_EVENTS_QUEUE, DEFAULT_NOOJEE_SCHEDULE } from '../noojee/defaults';
import { intSetting, queueName } from './core';

/**
 * Settings of the Noojee part (issue 5): call events long-polled from the CallManagementAPI into a
 * queue, and call commands (answer / hangup / dial) executed from a queue. Noojee is optional: with no
 * NOOJEE_BASE_URL or NOOJEE_API_KEY the timer logs once per run that it is not configured and does
 * nothing; NOOJEE_EXTENSIONS is required (with a clear error) only when both are set.
 */
export const noojeeSettings = z.object({
  /** `https://<server host>` of the Noojee PBX; `/servicemanager/rest/CallManagementAPI/<method>` is appended. */
  NOOJEE_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://pbx.example.com' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** Global API key from Noojee Support (a User API key cannot subscribe). Secret. */
  NOOJEE_API_KEY: z.string().min(1).optional(),
  /** Extensions to monitor, comma-separated (e.g. `400,410`). Required when Noojee is configured. */
  NOOJEE_EXTENSIONS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== ''),
    )
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9/_.@+-]+$/, 'must be a comma-separated list of extensions, e.g. 400,410')).min(1))
    .optional(),
  /** NCRONTAB schedule of the callEvents timer; each run long-polls for NOOJEE_RUN_SECONDS. */
  NOOJEE_SCHEDULE: z
    .string()
    .refine(
      (s) => s.trim().split(/\s+/).length === 6,
      'must be an NCRONTAB expression with six fields (second minute hour day month day-of-week)',
    )
    .default(DEFAULT_NOOJEE_SCHEDULE),
  /** How long one timer run keeps long-polling (keep it below the schedule's interval). */
  NOOJEE_RUN_SECONDS: intSetting(50, 1, 600),
  /** `timeOut` sent with each subscribe: the server answers at once on events, else after this. */
  NOOJEE_POLL_TIMEOUT_SECONDS: intSetting(30, 1, 300),
  /** The HTTP timeout of a subscribe is timeOut plus this margin; other calls use the margin alone. */
  NOOJEE_HTTP_TIMEOUT_MARGIN_MS: intSetting(10_000, 100, 120_000),
  /** Wait after a failed subscribe (network, 5xx, timeout) before polling again within the run. */
  NOOJEE_RETRY_DELAY_MS: intSetting(5_000, 0, 60_000),
  /** Queue receiving one message per CallData. */
  NOOJEE_EVENTS_QUEUE: queueName().default(DEFAULT_NOOJEE_EVENTS_QUEUE),
  /** Queue of call commands (`{action: answer|hangup|dial, ...}`) executed against Noojee. */
  NOOJEE_COMMANDS_QUEUE: queueName().default(DEFAULT_NOOJEE_COMMANDS_QUEUE),
  /** CloudEvents `source` of call events. */
  NOOJEE_EVENT_SOURCE: z.string().min(1).default('/noojee/call-management'),
  /**
   * How call-event ids are made (Noojee gives no event key): `content` (default) from the extension and
   * the entry itself, so an event read again in another answer (another `seq`) keeps its id; `seq` from
   * the answer's cursor (the id of earlier versions: a re-read under a new `seq` gets a new id).
   */
  NOOJEE_EVENT_ID: z.enum(['content', 'seq']).default('content'),
  /** `answerString` (SIP auto-answer header) sent with `answer` when a command carries none; empty = not sent. */
  NOOJEE_ANSWER_STRING: z.string().optional(),
});

/** Names of the settings above whose values are secrets. */
export const noojeeSecrets: readonly string[] = ['NOOJEE_API_KEY'];
