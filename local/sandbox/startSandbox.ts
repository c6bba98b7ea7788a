/**
 * All upstream simulators together (what `npm start` runs when no real upstream is configured):
 * Eptura Engage (token, listener API, pusher), the Notification API v2 and Noojee CallManagementAPI.
 * Each source is simulated only when asked (npm start: when its real settings are absent).
 */
import { startEngageSandbox, type EngageSandbox } from './engage/engageSandbox';
import {
  startNotificationsSandbox,
  notificationsSandboxSettings,
  type NotificationsSandbox,
} from './notificationApiV2/notificationsSandbox';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from './noojee/noojeeSandbox';

export interface SandboxOptions {
  /**
   * Simulate Engage, with a listener registered for the local webhook (`webhookUrl` includes the
   * function key) signed with `secret`. Omitted: no Engage sandbox.
   */
  engage?: { webhookUrl: string; secret: string };
  /** Which other sources to simulate (default all). */
  notifications?: boolean;
  noojee?: boolean;
  /** Generate realistic traffic periodically (npm start). */
  traffic?: boolean;
  log?: (line: string) => void;
  /** Ports for the simulators (default: free ports chosen by the OS). */
  ports?: { engage?: number; notifications?: number; noojee?: number };
}

/** The ports `npm start` prefers for the simulators, so that their URLs stay the same from one run to the next. */
export const SANDBOX_PORTS = { engage: 7081, notifications: 7082, noojee: 7083 } as const;

export interface RunningSandbox {
  engage?: EngageSandbox;
  notifications?: NotificationsSandbox;
  noojee?: RunningNoojeeSandbox;
  /** App settings that point the app at the simulators. */
  settings: Record<string, string>;
  stop(): Promise<void>;
}

export const SANDBOX_NOOJEE_EXTENSIONS = ['400', '410', '420'];

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const settings: Record<string, string> = {};
  const running: RunningSandbox = { settings, stop: () => Promise.resolve() };
  const stops: (() => Promise<void>)[] = [];
  try {
    if (options.engage) {
      const e = await startEngageSandbox({
        port: options.ports?.engage,
        sampleIntervalMs: options.traffic ? 5_000 : undefined,
        listeners: [
          {
            secretkey: options.engage.secret,
            eventTypes: ['MEETINGEXTERNAL', 'MEETINGPROGRESSION', 'DESK', 'DESKPROGRESSION', 'RESOURCE', 'VISITOR'],
            notificationUrl: options.engage.webhookUrl,
          },
        ],
        log: options.log,
      });
      stops.push(() => e.stop());
      running.engage = e;
      Object.assign(settings, {
        ENGAGE_BASE_URL: e.url,
        ENGAGE_API_SUFFIX: e.apiSuffix,
        ENGAGE_TOKEN_URL: e.tokenUrl,
        ENGAGE_CLIENT_ID: e.credentials.clientId,
        ENGAGE_PASSWORD: e.credentials.password,
        ENGAGE_SUBSCRIPTION_KEY: e.credentials.subscriptionKey,
        ENGAGE_WEBHOOK_SECRET: options.engage.secret,
        // The sandbox signs every push, so the local default is to check; the caller's explicit setting wins.
        ENGAGE_SIGNATURE_MODE: 'enforce',
        // The sandbox sends base64 JSON; real Engage payloads are encrypted (decoder `none`).
        ENGAGE_DECODER: 'base64-json',
      });
    }
    if (options.notifications !== false) {
      const n = await startNotificationsSandbox({
        port: options.ports?.notifications,
        generate: options.traffic ? { everyMs: 10_000, count: 3 } : undefined,
        log: options.log,
      });
      stops.push(() => n.stop());
      running.notifications = n;
      Object.assign(settings, notificationsSandboxSettings(n), options.traffic ? { NOTIFICATIONS_RUN_ON_STARTUP: 'true' } : {});
    }
    if (options.noojee !== false) {
      const j = await startNoojeeSandbox({
        port: options.ports?.noojee,
        traffic: options.traffic ? { intervalMs: 15_000, extensions: SANDBOX_NOOJEE_EXTENSIONS } : undefined,
        log: options.log,
      });
      stops.push(() => j.stop());
      running.noojee = j;
      Object.assign(settings, { NOOJEE_BASE_URL: j.url, NOOJEE_API_KEY: j.apiKey, NOOJEE_EXTENSIONS: SANDBOX_NOOJEE_EXTENSIONS.join(',') });
    }
  } catch (err) {
    await Promise.all(stops.map((s) => s()));
    throw err;
  }
  running.stop = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  return running;
}
