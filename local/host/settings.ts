/** The host's own settings helpers (it shares no code with the app it runs). */
import { z } from 'zod';

/** Bad host settings, each named (never their values). */
export class HostSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'HostSettingsError';
  }
}

/** Integer setting given as a string, with bounds. */
export function intSetting(defaultValue: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/** Parses settings with a schema; empty strings count as unset; one HostSettingsError naming every bad setting. */
export function parseHostSettings<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') input[k] = v;
  const result = schema.safeParse(input);
  if (!result.success) throw new HostSettingsError(result.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`));
  return result.data;
}
