/**
 * The worker side of the stand-in for `@azure/functions-core`: what the Node worker keeps while it
 * loads an app (registered functions, hooks, the programming model) and its log channel. One per
 * process, as in the worker; `local/host/core/index.ts` is the module the app sees.
 */
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookContext,
  HookData,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from './types';

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  /** The entry point file being loaded when the function was registered (undefined: outside any). */
  entryPoint?: string;
}

export interface LogEntry {
  level: RpcLogLevel;
  category: RpcLogCategory;
  message: string;
  /** The function whose invocation logged this, if any. */
  functionName?: string;
  invocationContext?: unknown;
}

export type WorkerLogSink = (entry: LogEntry) => void;

class Worker {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, HookCallback[]>();
  programmingModel?: ProgrammingModel;
  /** Shared by every hook (`appHookData`), and by the app-level hooks only (`hookData` of appStart/appTerminate). */
  readonly appHookData: HookData = {};
  readonly appLevelHookData: HookData = {};
  currentEntryPoint?: string;
  /** Where logs go: the running local host sets it; before that, stderr for warnings and errors. */
  sink: WorkerLogSink = (e) => {
    if (e.level === 'warning' || e.level === 'error' || e.level === 'critical') process.stderr.write(`${e.level}: ${e.message}\n`);
  };

  hooksOf(name: string): HookCallback[] {
    return this.hooks.get(name) ?? [];
  }

  /** Runs the hooks of `name` in registration order, as the worker does (a throwing hook stops the chain). */
  async runHooks(name: string, context: HookContext): Promise<void> {
    for (const hook of this.hooksOf(name)) await (hook as (c: HookContext) => unknown)(context);
  }

  /** One log line through the `log` hooks (which may change a user log's level and message), then the sink. */
  log(entry: LogEntry, hookData: HookData = {}): void {
    const hooks = this.hooksOf('log');
    if (hooks.length > 0) {
      const ctx = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: entry.invocationContext,
        category: entry.category,
        level: entry.level,
        message: entry.message,
      };
      for (const hook of hooks) (hook as (c: typeof ctx) => unknown)(ctx);
      if (entry.category === 'user') entry = { ...entry, level: ctx.level, message: ctx.message };
    }
    this.sink(entry);
  }
}

export const worker = new Worker();

/** Hook contexts whose `hookData` and `appHookData` cannot be replaced, only changed (as in the worker). */
export function hookContext<T extends object>(hookData: HookData, fields: T): T & HookContext {
  const ctx = { ...fields } as T & HookContext;
  Object.defineProperty(ctx, 'hookData', { get: () => hookData, set: () => readOnly('hookData'), enumerable: true });
  Object.defineProperty(ctx, 'appHookData', { get: () => worker.appHookData, set: () => readOnly('appHookData'), enumerable: true });
  return ctx;
}

function readOnly(name: string): never {
  throw new TypeError(`Cannot assign to read only property '${name}'`);
}
