/**
 * Client of the Noojee CallManagementAPI (UPSTREAM-RESEARCH.md §3): `POST
 * <base>/servicemanager/rest/CallManagementAPI/<method>`, form-urlencoded parameters including
 * `apiKey`. Every response carries an integer `Code`: 0 ok, negative error (NoojeeApiError with the
 * server's `Message`), positive warning (reported through `onWarning`, the call still succeeds).
 * Calls go through the upstream HTTP layer (shared/http) without retries: the poller retries with the
 * same policy, `Retry-After` included. The API key travels in the body only, never in a URL, log line or error: error texts and bodies are
 * redacted of it (and of credential-shaped fields), since a server may echo the request.
 */
import { upstreamCall } from '../http/client';
import { INVALID_RESPONSE, UpstreamError, type UpstreamErrorOptions } from '../http/error';
import { Redactor } from '../redact';
import { parseSubscribeResponse, type SubscribeResponse } from './subscribe';

export interface NoojeeClientOptions {
  /** `https://<server host>` (no trailing slash needed). */
  baseUrl: string;
  apiKey: string;
  /** HTTP timeout margin: subscribe waits `timeOut` s plus this; other methods this alone. */
  timeoutMarginMs: number;
  /** Positive `Code` (warning/notice) answers. */
  onWarning?: (method: string, code: number, message: string | undefined) => void;
}

/** Noojee answered with a negative `Code`: the request was understood and refused. */
export class NoojeeApiError extends UpstreamError {
  constructor(
    readonly method: string,
    readonly noojeeCode: number,
    readonly noojeeMessage: string | undefined,
    body: unknown,
  ) {
    super(`Noojee ${method} failed with Code ${noojeeCode}: ${noojeeMessage ?? '(no Message)'}`, 200, body, String(noojeeCode));
    this.name = 'NoojeeApiError';
  }
}

/**
 * Noojee could not be reached, timed out, dropped the connection, answered with HTTP ≥ 300, or
 * answered 200 with a body that is not a Noojee answer (code INVALID_RESPONSE). `transient`
 * (= `retryable`): network failures, timeouts, 5xx, 408, 429, and unreadable 200 answers (asking
 * again may well get a good one); `retryAfterMs` when the answer had a `Retry-After`.
 */
export class NoojeeUnavailableError extends UpstreamError {
  constructor(message: string, status: number | undefined, body: unknown, options?: UpstreamErrorOptions & { code?: string }) {
    super(message, status, body, options?.code, options);
    this.name = 'NoojeeUnavailableError';
  }
}

export interface SubscribeRequest {
  /** Extensions to monitor. */
  exten: readonly string[];
  /** `seq` of the previous response (0 the very first time). */
  lastSequenceNumber: number;
  /** Poll timeout in seconds. */
  timeOut: number;
}

export interface AnswerRequest {
  uniqueId: string;
  exten: string;
  answerString?: string;
}

export interface DialRequest {
  number: string;
  /** Extension including its technology, e.g. `SIP/100`, or a uniqueCallId. */
  extenOrUniqueId: string;
  autoAnswer?: boolean;
  callerId?: string;
  phoneCaption?: string;
  /** Noojee only reports the call to subscribers when `monitored=yes`. */
  monitored?: boolean;
  record?: boolean;
  tag?: string;
}

/** Answer of answer / hangup / dial. */
export interface CommandResponse {
  Code: number;
  Message?: string;
  /** dial only. */
  SessionID?: string;
  [key: string]: unknown;
}

type Params = Record<string, string | number | boolean | undefined>;

export class NoojeeClient {
  private readonly endpoint: string;
  private readonly redactor: Redactor;

  constructor(private readonly options: NoojeeClientOptions) {
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/servicemanager/rest/CallManagementAPI`;
    this.redactor = new Redactor([options.apiKey]);
  }

  /** Long-poll: returns as soon as an event occurs on one of the extensions, or after `timeOut` seconds. */
  async subscribe(req: SubscribeRequest, signal?: AbortSignal): Promise<SubscribeResponse> {
    const body = await this.call(
      'subscribe',
      { exten: req.exten.join(','), lastSequenceNumber: req.lastSequenceNumber, timeOut: req.timeOut },
      req.timeOut * 1000 + this.options.timeoutMarginMs,
      signal,
    );
    try {
      return parseSubscribeResponse(body);
    } catch (err) {
      throw unreadable(
        `Noojee subscribe answered an unexpected body: ${this.redactor.text((err as Error).message)}`,
        200,
        this.redactor.value(body),
      );
    }
  }

  answer(req: AnswerRequest): Promise<CommandResponse> {
    return this.call('answer', { uniqueId: req.uniqueId, exten: req.exten, answerString: req.answerString }, this.options.timeoutMarginMs);
  }

  /** Hangs up a call by uniqueCallId (recommended: an extension may hang up the wrong call) or extension. */
  hangup(extenOrUniqueId: string): Promise<CommandResponse> {
    return this.call('hangup', { extenOrUniqueId }, this.options.timeoutMarginMs);
  }

  dial(req: DialRequest): Promise<CommandResponse> {
    return this.call(
      'dial',
      {
        number: req.number,
        extenOrUniqueId: req.extenOrUniqueId,
        autoAnswer: req.autoAnswer,
        callerId: req.callerId,
        phoneCaption: req.phoneCaption,
        monitored: req.monitored === undefined ? undefined : req.monitored ? 'yes' : 'no',
        record: req.record,
        tag: req.tag,
      },
      this.options.timeoutMarginMs,
    );
  }

  /** POSTs one method; returns the parsed JSON body once its `Code` is 0 or positive. */
  private call(method: string, params: Params, timeoutMs: number, signal?: AbortSignal): Promise<{ Code: number; Message?: string }> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') form.set(k, String(v));
    form.set('apiKey', this.options.apiKey);
    return upstreamCall({
      url: `${this.endpoint}/${method}`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      what: `Noojee ${method} failed`,
      timeoutMs,
      signal,
      redactor: this.redactor,
      transportError: (message, code, cause) =>
        new NoojeeUnavailableError(message, undefined, undefined, { code, cause, retryable: code !== 'ABORTED' }),
      toError: (res, r) =>
        new NoojeeUnavailableError(`Noojee ${method} answered HTTP ${res.status}`, res.status, r.text(res.text.slice(0, 500)), {
          retryAfterMs: res.retryAfterMs,
        }),
      read: (res, r) => {
        let body: unknown;
        try {
          body = JSON.parse(res.text);
        } catch {
          throw unreadable(`Noojee ${method} answered a non-JSON body (HTTP ${res.status})`, res.status, r.text(res.text.slice(0, 500)));
        }
        const code = readCode(body);
        if (code === undefined) throw unreadable(`Noojee ${method} answered without a numeric Code`, res.status, r.value(body));
        const raw = (body as { Message?: unknown }).Message;
        const message = typeof raw === 'string' ? r.text(raw) : undefined;
        if (code < 0) throw new NoojeeApiError(method, code, message, r.value(body));
        if (code > 0) this.options.onWarning?.(method, code, message);
        return body as { Code: number; Message?: string };
      },
    });
  }
}

/** A 2xx answer that is not a Noojee answer: retryable, like a 5xx (issue 20 point 4). */
function unreadable(message: string, status: number, body: unknown): NoojeeUnavailableError {
  return new NoojeeUnavailableError(message, status, body, { code: INVALID_RESPONSE, retryable: true });
}

function readCode(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const raw = (body as { Code?: unknown }).Code;
  const code = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
}
