import { z } from 'zod';
import { intSetting, jsonSetting, parseSettings, queueName } from './core';
import { DEFAULT_JSON_LIMITS } from '../engage/jsonLimits';
import { DEFAULT_ENGAGE_ROUTES_JSON, engageRoutesSchema } from '../engage/routes';

/**
 * Settings of the Eptura Engage push path (issue 3; see README settings table).
 * Nothing here is required for `npm start`: the upstream API settings are only needed by the
 * listener API client / CLI (which fail with a clear error naming the missing setting), and the
 * webhook works with its defaults.
 */
export const engageSettings = z.object({
  /** Listener API host, e.g. `https://developer-api.condecosoftware.com` (hosts differ between docs and reality). */
  ENGAGE_BASE_URL: z
    .url()
    .optional()
    .meta({ description: 'listener API host, e.g. `https://developer-api.condecosoftware.com`', default: '– (CLI/API only)' }),
  /** Tenant path segment after the host, e.g. `Condeco_Software_UK_Demo` (may be empty). */
  ENGAGE_API_SUFFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.~-]*(\/[A-Za-z0-9_.~-]+)*$/, 'must be a URL path segment (no leading/trailing slash)')
    .default('')
    .meta({ description: 'tenant path segment, e.g. `Condeco_Software_UK_Demo`' }),
  /** Session-token endpoint; default `<ENGAGE_BASE_URL>/tokenproviderapi/token` (usually `https://<tenant>.condecosoftware.com/tokenproviderapi/token`). */
  ENGAGE_TOKEN_URL: z.url().optional().meta({
    description: 'session token endpoint (often `https://<tenant>.condecosoftware.com/tokenproviderapi/token`)',
    default: '`<ENGAGE_BASE_URL>/tokenproviderapi/token`',
  }),
  ENGAGE_CLIENT_ID: z.string().min(1).optional().meta({ description: 'client id (password grant)' }),
  ENGAGE_PASSWORD: z.string().min(1).optional().meta({ description: 'password (password grant)' }),
  ENGAGE_SUBSCRIPTION_KEY: z.string().min(1).optional().meta({ description: '`Ocp-Apim-Subscription-Key`' }),
  /** A cached session token is refreshed this many seconds before it expires. */
  ENGAGE_TOKEN_REFRESH_MARGIN_SECONDS: intSetting(300, 0, 6 * 3600).meta({
    description: 'refresh a cached 12 h token this early',
    advanced: true,
  }),
  /** Timeout of one call to the token endpoint or the listener API. */
  ENGAGE_HTTP_TIMEOUT_MS: intSetting(30_000, 100, 300_000).meta({ description: 'per token / listener API call', advanced: true }),

  /** The listener's `secretkey`: HMAC-SHA256 key of the `ms-signature` header. */
  ENGAGE_WEBHOOK_SECRET: z.string().min(1).optional().meta({ description: "the listener's `secretkey`, HMAC key of `ms-signature`" }),
  /**
   * The listener's previous `secretkey`, accepted too while a rotation is under way (README, "Rotating the webhook
   * secret"); unset otherwise. Both are checked in constant time.
   */
  ENGAGE_WEBHOOK_SECRET_PREVIOUS: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'the previous `secretkey`, also accepted while a rotation is under way' }),
  /** `off` ignores `ms-signature`; `log` verifies and logs mismatches; `enforce` answers 401 (needs ENGAGE_WEBHOOK_SECRET). */
  ENGAGE_SIGNATURE_MODE: z
    .enum(['off', 'log', 'enforce'])
    .default('log')
    .meta({ description: '`off` \\| `log` \\| `enforce` (Eptura has not documented that it signs)' }),
  /**
   * Admission control: most queue messages the webhook has in flight per instance. A request that would take
   * the count over it (while others are in flight) is answered 503 + Retry-After before its first write.
   * Default 2000, measured with bench/admission.ts (8 concurrent 1,000-notification envelopes, Azurite, 2 shared
   * cores): with 2,000 in flight the admitted envelopes were answered within 5.6 s of the 10 s default deadline.
   */
  ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES: intSetting(2000, 1, 1_000_000).meta({
    description:
      'admission control: queue messages in flight per instance; a request that would pass it (or whose estimated write time would pass its deadline) → 503 + `Retry-After` before its first write',
    advanced: true,
  }),
  /** Largest webhook body accepted (bytes); larger → 413. */
  ENGAGE_WEBHOOK_MAX_BYTES: intSetting(1024 * 1024, 1024, 100 * 1024 * 1024).meta({ description: 'body limit → 413', advanced: true }),
  /**
   * Deepest nesting of arrays/objects in the webhook body and in each decoded DynamicParamA; deeper: the body → 400,
   * a payload → its notification goes to the dead-letter queue.
   * Default 64, the MaxDepth of .NET's System.Text.Json; at most 1000 (deeper would overflow the stack when serialised).
   */
  ENGAGE_WEBHOOK_MAX_DEPTH: intSetting(DEFAULT_JSON_LIMITS.maxDepth, 3, 1000).meta({
    description:
      "deepest array/object nesting of the body and of each decoded `DynamicParamA` (3–1000; the default is .NET System.Text.Json's); deeper: the body → 400, a payload → its notification is dead-lettered",
    advanced: true,
  }),
  /**
   * Most elements (array items plus object members, at any depth) in the webhook body and in each decoded
   * DynamicParamA; more: as for the depth. The default is far above a real push (1,000 notifications of a few fields).
   */
  ENGAGE_WEBHOOK_MAX_ELEMENTS: intSetting(DEFAULT_JSON_LIMITS.maxElements, 10, 10_000_000).meta({
    description:
      'most array items + object members in the body and in each decoded `DynamicParamA`; more: the body → 400, a payload → dead-lettered',
    advanced: true,
  }),
  /** How DynamicParamA is read: `none` (kept as the string, e.g. Eptura's encrypted form), `json`, `base64-json`. */
  ENGAGE_DECODER: z.enum(['none', 'json', 'base64-json']).default('none').meta({ description: '`none` \\| `json` \\| `base64-json`' }),
  /** Decoded payloads of documented types that fail their schema: `enforce` → kept in DEADLETTER_QUEUE (not routed), `log` → enqueued and logged. */
  ENGAGE_PAYLOAD_VALIDATION: z
    .enum(['enforce', 'log'])
    .default('enforce')
    .meta({ description: 'documented payload shape mismatch: `enforce` → dead-letter queue (not routed), `log` → enqueue and log' }),
  /** Routes: JSON array of `{eventTypes, queue, resourceIds?, format?}`; default one queue per event type (`engage-<action>`). */
  ENGAGE_ROUTES: jsonSetting(engageRoutesSchema, DEFAULT_ENGAGE_ROUTES_JSON).meta({
    description: 'JSON `[{eventTypes:[name\\|number], queue, resourceIds?, format?}]`',
    default: 'one queue per type, `engage-<action>`',
  }),
  /** Queue for notifications whose Action no route lists (kept, never dropped). */
  ENGAGE_UNROUTED_QUEUE: queueName().default('engage-unrouted').meta({ description: 'Actions no route lists (kept, never dropped)' }),
  /** Default message body: CloudEvents envelope or the payload alone (`raw`); a route may override it. */
  ENGAGE_MESSAGE_FORMAT: z
    .enum(['cloudevents', 'raw'])
    .default('cloudevents')
    .meta({ description: '`cloudevents` \\| `raw`; a route may override' }),
  /** CloudEvents `source` of Engage events. */
  ENGAGE_EVENT_SOURCE: z.string().min(1).default('/eptura/engage').meta({ description: 'CloudEvents `source`' }),
});

export type EngageSettings = z.infer<typeof engageSettings>;

/** Names of the settings above whose values are secrets. */
export const engageSecrets: readonly string[] = [
  'ENGAGE_PASSWORD',
  'ENGAGE_SUBSCRIPTION_KEY',
  'ENGAGE_WEBHOOK_SECRET',
  'ENGAGE_WEBHOOK_SECRET_PREVIOUS',
];

/**
 * Only the Engage section (the CLI needs no storage settings). Empty strings count as unset,
 * as in `loadConfig`. Throws ConfigError naming the bad settings (never their values).
 */
export function loadEngageSettings(env: NodeJS.ProcessEnv = process.env): EngageSettings {
  return parseSettings(engageSettings, env);
}
