/**
 * The queue contract of the bridge, assembled from the code itself: the zod schemas the code builds
 * and validates messages with (shared/envelope.ts, shared/queue/claimCheck.ts, the per-source payload
 * schemas) and the settings' defaults (queue names, sources, the claim-check container), plus
 * host.json (encoding, maxDequeueCount). `render.ts` turns it into docs/asyncapi.yaml and
 * docs/schemas/*.json; nothing here is a second copy of a shape.
 *
 * A message shape changes where the code defines it (e.g. an extension attribute added to
 * `cloudEventAttributes`); `npm run contract` then regenerates the documents. A new queue needs a
 * channel below: the contract test fails for any `*_QUEUE` setting no channel describes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseSettings } from '../shared/config/core';
import { settingsSchema, type Config } from '../shared/config/settings';
import { cloudEventReadSchema, cloudEventSchema } from '../shared/envelope';
import { ENGAGE_EVENT_TYPE_PREFIX, engageEventType, payloadSchemas, type EventTypeName } from '../shared/engage/events';
import { CALL_EVENT_TYPE_PREFIX, callEntrySchema } from '../shared/noojee/subscribe';
import { callCommandSchema } from '../shared/noojee/commands';
import { claimCheckPointerSchema } from '../shared/queue/claimCheck';
import { MAX_QUEUE_MESSAGE_BYTES } from '../shared/queue/writer';
import { POISON_SUFFIX } from '../shared/poison/queues';
import { DEADLETTER_EVENT_TYPE, deadLetterDataSchema } from '../shared/deadletter';
import { archiveRecordSchema } from '../shared/archive/record';
import { DEFAULT_ARCHIVE_CONTAINER } from '../shared/config/archive';

export interface ContractMessage {
  /** Component key and schema file name (`docs/schemas/<name>.json`). */
  name: string;
  title: string;
  summary: string;
  description?: string;
  schema: z.ZodType;
  /** `input` for messages the bridge reads (what it accepts), `output` for what it writes. */
  io: 'input' | 'output';
}

export interface ContractChannel {
  /** Channel id: the queue's default name. */
  id: string;
  address: string;
  title: string;
  description: string;
  messages: ContractMessage[];
  /** The bridge writes (`send`) or reads (`receive`) the queue. */
  action: 'send' | 'receive';
  /** The app setting naming the queue, when one does. */
  setting?: keyof Config;
  /** Channel address parameters (the poison channel). */
  parameters?: Record<string, { description: string; enum: string[] }>;
}

export interface Contract {
  version: string;
  description: string;
  channels: ContractChannel[];
  /** Every distinct message, in channel order. */
  messages: ContractMessage[];
  /** Shapes the bridge stores outside the queues (the event archive's records): a JSON Schema each, no channel. */
  records: ContractMessage[];
}

/** The repository root (holding package.json and host.json), from source (contract/) or build (dist/contract/). */
export function repoRoot(): string {
  for (const dir of [join(__dirname, '..'), join(__dirname, '..', '..')]) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'engage-bridge') return dir;
    } catch {
      // not here
    }
  }
  throw new Error(`cannot find the engage-bridge repository root above ${__dirname}`);
}

const lower = (action: string) => action.toLowerCase();

/** The envelope the bridge writes, narrowed for one kind of event. */
function envelopeOf(type: z.ZodType, data: z.ZodType, subject?: z.ZodType) {
  return cloudEventSchema.extend({ type, data, ...(subject ? { subject } : {}) });
}

/** A decoded Engage payload; with ENGAGE_DECODER=none `DynamicParamA` is kept as the string Eptura sent. */
function engageData(action: EventTypeName) {
  return z.union([payloadSchemas[action], z.string().describe('DynamicParamA as received (ENGAGE_DECODER=none: Eptura encrypts it).')]);
}

/** `<prefix><something>` (a pattern, not zod's startsWith, which JSON Schema has no keyword for). */
const typePattern = (prefix: string) => z.string().regex(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.+$`));

export function buildContract(root = repoRoot()): Contract {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as {
    extensions?: { queues?: { maxDequeueCount?: number; messageEncoding?: string } };
  };
  const maxDequeueCount = host.extensions?.queues?.maxDequeueCount ?? 5;
  const encoding = host.extensions?.queues?.messageEncoding ?? 'base64';
  const defaults = parseSettings(settingsSchema, {});

  // First in every channel: a consumer tests for the pointer before anything else (readMessageBody does).
  const claimCheck: ContractMessage = {
    name: 'claim-check-pointer',
    title: 'Claim-check pointer',
    summary: `Written instead of a message whose encoded form exceeds ${MAX_QUEUE_MESSAGE_BYTES / 1024} KiB.`,
    description:
      `The full message body (exactly as it would have been queued) is in the blob named by \`claimcheck\` ` +
      `(\`<container>/<blob>\`; container CLAIM_CHECK_CONTAINER, default \`${defaults.CLAIM_CHECK_CONTAINER}\`). ` +
      'For a CloudEvent the pointer repeats the envelope attributes (all but `data`), so a consumer can route or ' +
      'deduplicate before reading the blob. Read the blob with the same identity as the queue (Storage Blob Data Reader).',
    schema: claimCheckPointerSchema,
    io: 'output',
  };

  const channels: ContractChannel[] = [];
  const routes = defaults.ENGAGE_ROUTES;
  for (const route of routes) {
    const messages = route.eventTypes.flatMap((action): ContractMessage[] => [
      {
        name: `engage-${lower(action)}-event`,
        title: `Engage ${action} notification (CloudEvent)`,
        summary: `One ${action} notification of the Notification Pusher, as a CloudEvents 1.0 envelope.`,
        description:
          `\`id\` is \`<pusher envelope Id>:<index of the notification>\`; \`subject\` is the first resource id found in the payload. ` +
          `\`data\` is the decoded DynamicParamA (ENGAGE_DECODER), validated against the documented ${action} shape when one is documented ` +
          '(ENGAGE_PAYLOAD_VALIDATION=enforce, the default, refuses other shapes with 400).',
        schema: envelopeOf(z.literal(engageEventType(action)), engageData(action)),
        io: 'output',
      },
      {
        name: `engage-${lower(action)}-raw`,
        title: `Engage ${action} notification (raw)`,
        summary: `The ${action} payload alone (format raw), as Eptura's own AzureQueue provider writes it.`,
        description: 'With ENGAGE_DECODER=none the message is the DynamicParamA text itself (not JSON-quoted).',
        schema: engageData(action),
        io: 'output',
      },
    ]);
    channels.push({
      id: route.queue,
      address: route.queue,
      title: `Engage ${route.eventTypes.join(', ')}`,
      description:
        `Engage notifications of type ${route.eventTypes.join(', ')}, one message per notification. The queue is the one ENGAGE_ROUTES ` +
        `gives these types (default \`${route.queue}\`); a route may list several types, filter by resourceIds (AzureQueueFiltered) ` +
        `and choose its format (ENGAGE_MESSAGE_FORMAT, default ${defaults.ENGAGE_MESSAGE_FORMAT}).`,
      messages: [claimCheck, ...messages],
      action: 'send',
    });
  }

  channels.push({
    id: defaults.ENGAGE_UNROUTED_QUEUE,
    address: defaults.ENGAGE_UNROUTED_QUEUE,
    title: 'Engage notifications no route lists',
    description: 'Notifications whose Action no route of ENGAGE_ROUTES lists (any Action, also unknown ones): kept, never dropped.',
    setting: 'ENGAGE_UNROUTED_QUEUE',
    action: 'send',
    messages: [
      claimCheck,
      {
        name: 'engage-unrouted-event',
        title: 'Unrouted Engage notification (CloudEvent)',
        summary: `\`type\` is \`${ENGAGE_EVENT_TYPE_PREFIX}<Action lower-case>\`; \`data\` is the decoded DynamicParamA.`,
        schema: envelopeOf(
          typePattern(ENGAGE_EVENT_TYPE_PREFIX),
          z.unknown().describe('The decoded DynamicParamA (or the string as received).'),
        ),
        io: 'output',
      },
      {
        name: 'engage-unrouted-raw',
        title: 'Unrouted Engage notification (raw)',
        summary: 'The decoded DynamicParamA alone (ENGAGE_MESSAGE_FORMAT=raw).',
        schema: z.unknown(),
        io: 'output',
      },
    ],
  });

  const notificationData = z
    .unknown()
    .describe('One notification of the Notification API page, untouched (`event_type_id`, `timestamp`, `user`, ...).');
  channels.push({
    id: defaults.NOTIFICATIONS_QUEUE,
    address: defaults.NOTIFICATIONS_QUEUE,
    title: 'Notification API v2 events',
    description:
      'Notifications drained from the Notification API (Thales OneWelcome), one message per notification, journaled before they are enqueued.',
    setting: 'NOTIFICATIONS_QUEUE',
    action: 'send',
    messages: [
      claimCheck,
      {
        name: 'notification-event',
        title: 'Notification API v2 event (CloudEvent)',
        summary: 'One v2 notification as a CloudEvents 1.0 envelope.',
        description:
          '`id` is `<journal entry>:<index>` (`notifications/<run id>/<page>:<index>`; run ids sort by time), so a replayed page keeps its ids. ' +
          "`source` is NOTIFICATIONS_API_BASE_URL; `type` is the notification's `event_type_id` (`unknown` without one); `time` its `timestamp` " +
          'when that parses as a date, else when the page was read.',
        schema: envelopeOf(z.string().min(1).describe("The notification's event_type_id (`unknown` without one)."), notificationData),
        io: 'output',
      },
      {
        name: 'notification-raw',
        title: 'Notification API v2 event (raw)',
        summary: 'The notification alone (NOTIFICATIONS_MESSAGE_FORMAT=raw).',
        schema: notificationData,
        io: 'output',
      },
    ],
  });

  channels.push({
    id: defaults.NOOJEE_EVENTS_QUEUE,
    address: defaults.NOOJEE_EVENTS_QUEUE,
    title: 'Noojee call events',
    description:
      'One message per CallData of the Noojee CallManagementAPI long-poll (`subscribe`), enqueued before the `seq` cursor advances.',
    setting: 'NOOJEE_EVENTS_QUEUE',
    action: 'send',
    messages: [
      claimCheck,
      {
        name: 'noojee-call-event',
        title: 'Noojee call event (CloudEvent)',
        summary: `\`type\` is \`${CALL_EVENT_TYPE_PREFIX}<status lower-case, spaces as ->\`, e.g. \`${CALL_EVENT_TYPE_PREFIX}no-answer\`.`,
        description:
          '`id` is `<uniqueCallId>:<status>:<extension>:<digest>` (the first 12 hex digits of the SHA-256 of the entry as received, so the ' +
          'same event read again under another `seq` keeps its id; `:<position>` appended when one answer repeats an entry on one extension; ' +
          'NOOJEE_EVENT_ID=seq gives `<uniqueCallId>:<status>:<seq>`), `subject` the extension, `source` NOOJEE_EVENT_SOURCE, `data` the upstream entry `{CallData, CallID, Code}` untouched.',
        schema: envelopeOf(typePattern(CALL_EVENT_TYPE_PREFIX), callEntrySchema, z.string().min(1).describe('The monitored extension.')),
        io: 'output',
      },
    ],
  });

  channels.push({
    id: defaults.NOOJEE_COMMANDS_QUEUE,
    address: defaults.NOOJEE_COMMANDS_QUEUE,
    title: 'Noojee call commands',
    description:
      'Call control the `callCommands` function executes against the CallManagementAPI (answer, hangup, dial). Invalid commands and upstream refusals are retried, then poisoned.',
    setting: 'NOOJEE_COMMANDS_QUEUE',
    action: 'receive',
    messages: [
      claimCheck,
      {
        name: 'noojee-call-command',
        title: 'Noojee call command',
        summary: 'A command: `action` answer, hangup or dial.',
        schema: callCommandSchema,
        io: 'input',
      },
      {
        name: 'noojee-call-command-event',
        title: 'Noojee call command (CloudEvent)',
        summary: 'A CloudEvents 1.0 envelope whose `data` is the command.',
        schema: cloudEventReadSchema.extend({ data: callCommandSchema }),
        io: 'input',
      },
    ],
  });

  const deadLetter: ContractChannel = {
    id: defaults.DEADLETTER_QUEUE,
    address: defaults.DEADLETTER_QUEUE,
    title: 'Dead letters',
    description:
      'What the bridge received but could not decode or validate (an Engage notification with an undecodable or off-schema `DynamicParamA` or no `Action`, ' +
      'a Noojee `Data` entry without `CallData`), kept as received with the reason while the rest of the request is enqueued. Messages never expire (TTL -1); ' +
      'nothing in the bridge reads this queue: inspect, fix the cause and re-submit.',
    setting: 'DEADLETTER_QUEUE',
    action: 'send',
    messages: [
      claimCheck,
      {
        name: 'dead-letter',
        title: 'Dead letter (CloudEvent)',
        summary: `A CloudEvents 1.0 envelope of \`type\` \`${DEADLETTER_EVENT_TYPE}\` whose \`data\` says why and where, and holds the entry as received.`,
        schema: envelopeOf(z.literal(DEADLETTER_EVENT_TYPE), deadLetterDataSchema),
        io: 'output',
      },
    ],
  };
  const sources = channels.map((c) => c.address);
  const unique = <T extends { name: string }>(list: T[]) => [...new Map(list.map((m) => [m.name, m])).values()];
  channels.push({
    id: 'poison',
    address: `{queue}${POISON_SUFFIX}`,
    title: 'Poison queues',
    description:
      `Where the Functions host moves a message, unchanged, after ${maxDequeueCount} failed attempts (host.json maxDequeueCount) of the function reading it. ` +
      "The poisonMonitor timer reports each poison queue's depth; `engage-bridge poison replay --queue <queue>` moves messages back to their queue unchanged.",
    parameters: { queue: { description: 'The queue the message failed in.', enum: sources } },
    action: 'receive',
    messages: unique(channels.flatMap((c) => c.messages)),
  });
  channels.push(deadLetter);

  const description = [
    'The Azure Storage queues of engage-bridge: what it writes for queue-triggered consumers in any language, and the commands it reads.',
    '',
    `**Encoding.** Each message is UTF-8 JSON, ${encoding}-encoded in the queue (host.json messageEncoding: what the Functions queue trigger decodes), ` +
      `at most ${MAX_QUEUE_MESSAGE_BYTES / 1024} KiB encoded; larger messages are replaced by a claim-check pointer.`,
    '',
    '**Formats.** `cloudevents` (default): a CloudEvents 1.0 structured-mode envelope whose `data` is the upstream payload untouched. ' +
      '`raw`: the payload alone. The format is a setting per source (ENGAGE_MESSAGE_FORMAT or per route, NOTIFICATIONS_MESSAGE_FORMAT).',
    '',
    '**Ids and duplicates.** Delivery is at least once. The envelope `id` is deterministic per upstream event, so a redelivery, a pusher retry ' +
      'or a journal replay carries the same `id`: deduplicate on `source` + `id`.',
    '',
    "**Ordering.** Storage queues are not FIFO and retries reorder messages: order by the payload's own times (Engage `UpdatedTime` / `UpdateTime`), " +
      'by the `seq` in Noojee ids, or by the time-sorted journal entry in v2 ids, never by arrival.',
    '',
    `**Poison.** A message that fails ${maxDequeueCount} times moves, unchanged, to \`<queue>${POISON_SUFFIX}\` (see the poison channel).`,
    '',
    `**Archive.** Every message the bridge writes is also appended, exactly as queued, to the event archive (blob container ARCHIVE_CONTAINER, default \`${DEFAULT_ARCHIVE_CONTAINER}\`, ` +
      'one JSON line per message, `docs/schemas/archive-record.json`; see docs/archive.md), from which `engage-bridge archive replay` re-enqueues it with the same `id`.',
    '',
    "Generated by `npm run contract` from the zod schemas in `shared/` and the settings' defaults; the JSON Schema of each message is also in `docs/schemas/`.",
  ].join('\n');

  const records: ContractMessage[] = [
    {
      name: 'archive-record',
      title: 'Event archive record',
      summary:
        'One line of an archive append blob `<source>/<yyyy>/<mm>/<dd>/<hh>/<instance>.jsonl` (ARCHIVE_CONTAINER): a message the bridge enqueued, exactly as queued.',
      schema: archiveRecordSchema,
      io: 'output',
    },
  ];
  return { version: pkg.version, description, channels, messages: unique(channels.flatMap((c) => c.messages)), records };
}
