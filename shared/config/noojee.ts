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
    .optional()
    .meta({ description: '`https://<pbx host>`; `/servicemanager/rest/CallManagementAPI/<method>` is appended', default: '– (off)' }),
  /** Global API key from Noojee Support (a User API key cannot subscribe). Secret. */
  NOOJEE_API_KEY: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Global API key (a User API key cannot subscribe)', default: '– (off)' }),
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
    .optional()
    .meta({ description: 'e.g. `400,410`', default: '– (required with the two above)' }),
  /** NCRONTAB schedule of the callEvents timer; each run long-polls for NOOJEE_RUN_SECONDS. */
  NOOJEE_SCHEDULE: z
    .string()
    .refine(
      (s) => s.trim().split(/\s+/).length === 6,
      'must be an NCRONTAB expression with six fields (second minute hour day month day-of-week)',
    )
    .default(DEFAULT_NOOJEE_SCHEDULE)
    .meta({ description: 'timer (`%NOOJEE_SCHEDULE%`); each run long-polls for `NOOJEE_RUN_SECONDS`' }),
  /** How long one timer run keeps long-polling (keep it below the schedule's interval). */
  NOOJEE_RUN_SECONDS: intSetting(50, 1, 600).meta({
    description: "how long one run keeps long-polling (keep it below the schedule's interval)",
  }),
  /** `timeOut` sent with each subscribe: the server answers at once on events, else after this. */
  NOOJEE_POLL_TIMEOUT_SECONDS: intSetting(30, 1, 300).meta({
    description: '`timeOut` sent with each subscribe: the server answers at once on events, else after this.',
    advanced: true,
  }),
  /** The HTTP timeout of a subscribe is timeOut plus this margin; other calls use the margin alone. */
  NOOJEE_HTTP_TIMEOUT_MARGIN_MS: intSetting(10_000, 100, 120_000).meta({
    description: 'The HTTP timeout of a subscribe is timeOut plus this margin; other calls use the margin alone.',
    advanced: true,
  }),
  /** Wait after a failed subscribe (network, 5xx, timeout) before polling again within the run. */
  NOOJEE_RETRY_DELAY_MS: intSetting(5_000, 0, 60_000).meta({
    description:
      "wait after a failed poll (network, 5xx, timeout, or a 200 whose body is not a subscribe answer), doubling with ±20 % jitter up to 4×; an answer with `Retry-After` (seconds or HTTP-date) waits exactly that, and ends the run when it reaches past the run's budget",
    advanced: true,
  }),
  /** Queue receiving one message per CallData. */
  NOOJEE_EVENTS_QUEUE: queueName().default(DEFAULT_NOOJEE_EVENTS_QUEUE).meta({ description: 'Queue receiving one message per CallData.' }),
  /** Queue of call commands (`{action: answer|hangup|dial, ...}`) executed against Noojee. */
  NOOJEE_COMMANDS_QUEUE: queueName()
    .default(DEFAULT_NOOJEE_COMMANDS_QUEUE)
    .meta({ description: 'Queue of call commands (`{action: answer|hangup|dial, ...}`) executed against Noojee.' }),
  /** CloudEvents `source` of call events. */
  NOOJEE_EVENT_SOURCE: z.string().min(1).default('/noojee/call-management').meta({ description: 'CloudEvents `source` of call events.' }),
  /**
   * How call-event ids are made (Noojee gives no event key): `content` (default) from the extension and
   * the entry itself, so an event read again in another answer (another `seq`) keeps its id; `seq` from
   * the answer's cursor (the id of earlier versions: a re-read under a new `seq` gets a new id).
   */
  NOOJEE_EVENT_ID: z.enum(['content', 'seq']).default('content').meta({
    description:
      "call-event ids from the entry itself (`content`: a re-read keeps its id) or from the answer's `seq` (`seq`, the id of earlier versions)",
    advanced: true,
  }),
  /** `answerString` (SIP auto-answer header) sent with `answer` when a command carries none; empty = not sent. */
  NOOJEE_ANSWER_STRING: z
    .string()
    .optional()
    .meta({ description: '`answerString` (SIP auto-answer header) sent with `answer` when a command carries none; empty = not sent.' }),
});

/** Names of the settings above whose values are secrets. */
export const noojeeSecrets: readonly string[] = ['NOOJEE_API_KEY'];
