/**
 * One function definition serves both hosts: `functions/index.ts` registers it with the
 * @azure/functions v4 `app` (what Azure runs) and `local/host` runs it without Core Tools.
 * Handlers use the real @azure/functions types (HttpRequest, InvocationContext, Timer).
 *
 * Trigger option values may reference app settings as `%NAME%`, as in Azure Functions
 * (e.g. `schedule: '%DRAIN_SCHEDULE%'`).
 */
import type {
  FunctionOutput,
  HttpHandler,
  HttpMethod,
  StorageQueueHandler,
  TimerHandler,
} from '@azure/functions';

export interface HttpTriggerSpec {
  kind: 'http';
  /** Route below `/api/`, e.g. `engage/webhook` or `occupancy/{resourceId}`. */
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function' | 'admin';
}

export interface TimerTriggerSpec {
  kind: 'timer';
  /** NCRONTAB, six fields (`{second} {minute} {hour} {day} {month} {day-of-week}`), or `%SETTING%`. */
  schedule: string;
  runOnStartup?: boolean;
}

export interface QueueTriggerSpec {
  kind: 'storageQueue';
  /** Queue name or `%SETTING%`. */
  queueName: string;
  /** Prefix of the connection settings, e.g. `AzureWebJobsStorage`. */
  connection: string;
}

interface Common {
  /** Function name: letters, digits, `_` and `-`; unique in the app. */
  name: string;
  /** Output bindings the handler sets through `context.extraOutputs`. */
  extraOutputs?: FunctionOutput[];
}

export interface HttpFunctionDefinition extends Common {
  trigger: HttpTriggerSpec;
  handler: HttpHandler;
}
export interface TimerFunctionDefinition extends Common {
  trigger: TimerTriggerSpec;
  handler: TimerHandler;
}
export interface QueueFunctionDefinition extends Common {
  trigger: QueueTriggerSpec;
  handler: StorageQueueHandler;
}

export type FunctionDefinition = HttpFunctionDefinition | TimerFunctionDefinition | QueueFunctionDefinition;

/** The storage connection every built-in function uses (Azure Functions' own setting prefix). */
export const STORAGE_CONNECTION = 'AzureWebJobsStorage';

/**
 * A trigger option read from an app setting when the definitions load, with a documented default:
 * Azure's `%SETTING%` expressions fail when the setting is unset, and the app must run with no
 * configuration (`npm start`). App settings are environment variables on Azure and in the local host.
 */
export function settingOr(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  return v !== undefined && v.trim() !== '' ? v.trim() : fallback;
}
