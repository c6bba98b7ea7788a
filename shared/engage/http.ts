/** Minimal JSON-over-HTTP for the Engage API clients (global fetch, timeout, typed network errors). */
import { UpstreamError } from '../errors';

export interface JsonRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** Names the upstream in error messages, e.g. "Engage listener API". */
  what: string;
}

export interface JsonResponse {
  status: number;
  /** Parsed JSON, the text when it is not JSON, undefined when empty. */
  body: unknown;
}

export async function requestJson(url: string, req: JsonRequest): Promise<JsonResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `timed out after ${req.timeoutMs ?? 30_000} ms` : (e.cause?.code ?? (err instanceof Error ? err.message : String(err)));
    throw new UpstreamError(`${req.what} unreachable (${new URL(url).origin}): ${why}`, undefined, undefined, e.cause?.code);
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
    }
  }
  return { status: res.status, body };
}
