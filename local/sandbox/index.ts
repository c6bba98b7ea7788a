/**
 * All upstream simulators together (what `npm start` runs when no real upstream is configured):
 * the Notification API v2 and Noojee CallManagementAPI; the Engage pusher is added by `startEngage`.
 * Each source is simulated only when its real settings are absent.
 */
import { startNotificationsSandbox, notificationsSandboxSettings, type NotificationsSandbox } from './notifications';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from './noojee';

export interface SandboxOptions {
  /** Which sources to simulate (default all). */
  notifications?: boolean;
  noojee?: boolean;
  /** Generate realistic traffic periodically (npm start). */
  traffic?: boolean;
  log?: (line: string) => void;
}

export interface RunningSandbox {
  notifications?: NotificationsSandbox;
  noojee?: RunningNoojeeSandbox;
  /** App settings that point the app at the simulators. */
  settings: Record<string, string>;
  stop(): Promise<void>;
}

export const SANDBOX_NOOJEE_EXTENSIONS = ['400', '410', '420'];

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const settings: Record<string, string> = {};
  const running: RunningSandbox = { settings, stop: async () => undefined };
  const stops: (() => Promise<void>)[] = [];
  try {
    if (options.notifications !== false) {
      const n = await startNotificationsSandbox({ generate: options.traffic ? { everyMs: 10_000, count: 3 } : undefined, log: options.log });
      stops.push(() => n.stop());
      running.notifications = n;
      Object.assign(settings, notificationsSandboxSettings(n));
    }
    if (options.noojee !== false) {
      const j = await startNoojeeSandbox({ traffic: options.traffic ? { intervalMs: 15_000, extensions: SANDBOX_NOOJEE_EXTENSIONS } : undefined, log: options.log });
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
