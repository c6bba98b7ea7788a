/** Typed errors shared by functions, CLI and host. Messages never contain secret values. */
import type { ZodError } from 'zod';

/** One-line reason from a zod error, naming fields and problems (never the values), e.g. `Notifications.0.Action: Required`. */
export function describeIssues(error: ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > max) parts.push(`and ${error.issues.length - max} more`);
  return parts.join('; ');
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Storage could not be reached or failed server-side: the caller should answer 503 / retry. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** An upstream API call failed (one type for every upstream client): see shared/http/error.ts. */
export { UpstreamError, isRetryable } from './http/error';

/** Another writer changed a blob we hold (ETag mismatch / already exists). */
export class ConcurrencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrencyError';
  }
}

/** True for errors that mean "storage is down or overloaded", as opposed to a bad request. */
export function isStorageUnavailable(err: unknown): boolean {
  if (err instanceof StorageUnavailableError) return true;
  const e = err as { statusCode?: number; code?: string; name?: string } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'RestError' || e.name === 'StorageError') {
    if (e.statusCode === undefined) return true; // network-level failure
    return e.statusCode >= 500 || e.statusCode === 408 || e.statusCode === 429;
  }
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code ?? '');
}
