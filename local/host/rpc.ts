/**
 * Invocation the way the Node worker does it, and the RPC data the Functions host exchanges with it:
 * - each trigger becomes an `RpcInvocationRequest` (HTTP: method, url, headers, query, params, body
 *   bytes; queue: the message text plus trigger metadata `Id`, `DequeueCount`, `InsertionTime`,
 *   `ExpirationTime`, `NextVisibleTime`, `PopReceipt`, `QueueTrigger`; timer: the PascalCase
 *   TimerInfo with `ScheduleStatus` and `IsPastDue`);
 * - it runs through the app's programming model (`@azure/functions`' InvocationModel): getArguments →
 *   preInvocation hooks → invokeFunction → postInvocation hooks → getResponse;
 * - the `RpcInvocationResponse` is turned back into what the host does with it: the HTTP response
 *   (`$return`), and the messages of queue output bindings.
 */
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { DequeuedMessageItem } from '@azure/storage-queue';
import type { QueueOutput } from './storage';
import { connectionOf, type IndexedFunction } from './app';
import type {
  CoreInvocationContext,
  InvocationState,
  PostInvocationContext,
  PreInvocationContext,
  RpcHttpData,
  RpcInvocationRequest,
  RpcInvocationResponse,
  RpcTypedData,
} from './core/types';
import { hookContext, worker } from './core/worker';
import type { HostLog } from './invocation';

/** Queue writer per connection setting prefix (output bindings). */
export type WriterFor = (connection: string) => Promise<QueueOutput>;

type TriggerData = Pick<RpcInvocationRequest, 'inputData' | 'triggerMetadata'>;

/** Runs one invocation through the programming model, as the worker's InvocationHandler does. */
export async function invokeModel(
  fn: IndexedFunction,
  request: RpcInvocationRequest & { invocationId: string },
): Promise<RpcInvocationResponse> {
  const model = worker.programmingModel;
  if (!model) throw new Error('No programming model was set: the app did not load @azure/functions');
  const hookData: Record<string, unknown> = {};
  const current: { invocationContext?: unknown } = {};
  const coreCtx: CoreInvocationContext & { state?: InvocationState } = {
    invocationId: request.invocationId,
    request,
    metadata: { name: fn.name, functionId: fn.functionId, bindings: fn.metadata.bindings },
    log: (level, category, message) =>
      worker.log({ level, category, message, functionName: fn.name, invocationContext: current.invocationContext }, hookData),
  };
  const invocation = await model.getInvocationModel(coreCtx);
  const { context, inputs } = await invocation.getArguments();
  current.invocationContext = context;

  // Hook contexts are built only when the app registered hooks of that kind (the per-request cost stays low).
  let callInputs = inputs;
  let callback = fn.callback;
  if (worker.hooksOf('preInvocation').length > 0) {
    const pre = hookContext<Omit<PreInvocationContext, 'hookData' | 'appHookData'>>(hookData, {
      invocationContext: context,
      inputs,
      functionCallback: callback,
    });
    await inState(coreCtx, 'preInvocationHooks', () => worker.runHooks('preInvocation', pre));
    callInputs = pre.inputs;
    callback = pre.functionCallback;
  }

  let result: unknown = null;
  let error: unknown = null;
  coreCtx.state = 'invocation';
  try {
    result = await invocation.invokeFunction(context, callInputs, callback);
  } catch (err) {
    error = err;
  } finally {
    coreCtx.state = undefined;
  }
  if (worker.hooksOf('postInvocation').length > 0) {
    const post = hookContext<Omit<PostInvocationContext, 'hookData' | 'appHookData'>>(hookData, {
      invocationContext: context,
      inputs: callInputs,
      result,
      error,
    });
    await inState(coreCtx, 'postInvocationHooks', () => worker.runHooks('postInvocation', post));
    result = post.result;
    error = post.error;
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows exactly what the function threw
  if (error) throw error;
  return invocation.getResponse(context, result);
}

async function inState(ctx: { state?: InvocationState }, state: InvocationState, run: () => Promise<void>): Promise<void> {
  ctx.state = state;
  try {
    await run();
  } finally {
    ctx.state = undefined;
  }
}

/**
 * One invocation with Core Tools' "Executing / Executed" log lines; the output bindings of the
 * response are written before it counts as succeeded (a failed write fails the invocation, as on Azure).
 */
export async function invoke(
  fn: IndexedFunction,
  log: HostLog,
  reason: string,
  data: TriggerData,
  writerFor: WriterFor,
): Promise<RpcInvocationResponse> {
  const invocationId = randomUUID();
  const started = Date.now();
  log.write('information', 'host', `Executing 'Functions.${fn.name}' (Reason='${reason}', Id=${invocationId})`);
  try {
    const response = await invokeModel(fn, { invocationId, functionId: fn.functionId, ...data });
    await writeQueueOutputs(fn, response, writerFor);
    log.write('information', 'host', `Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`);
    return response;
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log.write(
      'error',
      'host',
      `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms) ${message}`,
    );
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Trigger → RPC
// ---------------------------------------------------------------------------------------------

export function httpTriggerData(fn: IndexedFunction, http: RpcHttpData): TriggerData {
  return { inputData: [{ name: fn.trigger.name, data: { http } }] };
}

/** `text` is the message after decoding (host.json `messageEncoding`). */
export function queueTriggerData(fn: IndexedFunction, m: DequeuedMessageItem, text: string): TriggerData {
  return {
    inputData: [{ name: fn.trigger.name, data: { string: text } }],
    triggerMetadata: {
      QueueTrigger: { string: text },
      Id: { string: m.messageId },
      DequeueCount: { int: m.dequeueCount },
      InsertionTime: { json: JSON.stringify(m.insertedOn.toISOString()) },
      ExpirationTime: { json: JSON.stringify(m.expiresOn.toISOString()) },
      NextVisibleTime: { json: JSON.stringify(m.nextVisibleOn.toISOString()) },
      PopReceipt: { string: m.popReceipt },
    },
  };
}

export interface TimerInfo {
  last: Date;
  next: Date;
  lastUpdated: Date;
  isPastDue: boolean;
}

/** The host's TimerInfo (PascalCase JSON; the library camel-cases it into `Timer`). */
export function timerTriggerData(fn: IndexedFunction, t: TimerInfo): TriggerData {
  const info = {
    Schedule: { AdjustForDST: true },
    ScheduleStatus: { Last: t.last.toISOString(), Next: t.next.toISOString(), LastUpdated: t.lastUpdated.toISOString() },
    IsPastDue: t.isPastDue,
  };
  return { inputData: [{ name: fn.trigger.name, data: { json: JSON.stringify(info) } }] };
}

// ---------------------------------------------------------------------------------------------
// RPC → HTTP response, queue messages
// ---------------------------------------------------------------------------------------------

export interface HttpResult {
  status: number;
  headers: OutgoingHttpHeaders;
  body?: Uint8Array | string;
}

/** The HTTP response in `returnValue` (none: 204, as the host answers an invocation without one). */
export function httpResult(response: RpcInvocationResponse): HttpResult {
  const http = response.returnValue?.http;
  if (!http) return { status: 204, headers: {} };
  const headers: OutgoingHttpHeaders = { ...http.headers };
  const cookies = (http.cookies ?? []).map((c) => setCookie(c as RpcCookie));
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return { status: Number(http.statusCode ?? 200), headers, body: typedBody(http.body) };
}

function typedBody(data: RpcTypedData | null | undefined): Uint8Array | string | undefined {
  if (!data) return undefined;
  return data.bytes ?? data.string ?? data.json ?? undefined;
}

interface RpcCookie {
  name?: string | null;
  value?: string | null;
  domain?: { value?: string | null } | null;
  path?: { value?: string | null } | null;
  expires?: { value?: { seconds?: number | null; nanos?: number | null } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: 'none' | 'lax' | 'strict' | 'explicitNone' | null;
  maxAge?: { value?: number | null } | null;
}

/** A `Set-Cookie` value from an RpcHttpCookie (RFC 6265 attributes). */
function setCookie(c: RpcCookie): string {
  const parts = [`${c.name ?? ''}=${c.value ?? ''}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  const exp = c.expires?.value;
  if (exp?.seconds !== undefined && exp.seconds !== null) parts.push(`Expires=${new Date(Number(exp.seconds) * 1000).toUTCString()}`);
  if (typeof c.maxAge?.value === 'number') parts.push(`Max-Age=${c.maxAge.value}`);
  if (c.secure?.value) parts.push('Secure');
  if (c.httpOnly?.value) parts.push('HttpOnly');
  const sameSite = c.sameSite === 'lax' ? 'Lax' : c.sameSite === 'strict' ? 'Strict' : c.sameSite === 'explicitNone' ? 'None' : undefined;
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

/** Message bodies of one output value: a JSON array is one message per element, as the host writes it. */
export function outputMessages(data: RpcTypedData): unknown[] {
  if (data.string !== undefined && data.string !== null) return [data.string];
  if (data.json !== undefined && data.json !== null) {
    const value: unknown = JSON.parse(data.json);
    return Array.isArray(value) ? value : [value];
  }
  if (data.bytes) return [Buffer.from(data.bytes).toString('utf8')];
  if (typeof data.int === 'number' || typeof data.double === 'number') return [String(data.int ?? data.double)];
  return [];
}

async function writeQueueOutputs(fn: IndexedFunction, response: RpcInvocationResponse, writerFor: WriterFor): Promise<void> {
  for (const out of response.outputData ?? []) {
    const binding = fn.outputs.find((b) => b.name === out.name);
    if (!binding || !out.data) continue;
    if (binding.type.toLowerCase() !== 'queue')
      throw new Error(`output binding "${binding.name}" of type "${binding.type}" is not supported by the local host`);
    const queue = String(binding.queueName);
    const writer = await writerFor(connectionOf(binding));
    await writer.send(queue, outputMessages(out.data));
  }
}
