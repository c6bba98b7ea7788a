/**
 * The stand-in for the Node worker's built-in module `@azure/functions-core`, which `@azure/functions`
 * requires to register functions and hooks and to set its programming model. The local host makes
 * `require('@azure/functions-core')` return this module (see ../app.ts); Jest maps the name to it
 * (jest.config.js). Our own implementation of the API declared in `types-core/index.d.ts` of
 * Azure/azure-functions-nodejs-library.
 */
import type { FunctionCallback, FunctionMetadata, HookCallback, ProgrammingModel, RpcLogCategory, RpcLogLevel } from './types';
import { worker } from './worker';

/** Which worker this is (the real Node worker reports its 3.x version here; @azure/functions does not read it). */
export const version = 'engage-bridge-local-host';

/** Which Functions host this is (the real worker reports the host's 4.x version; @azure/functions does not read it). */
export const hostVersion = 'engage-bridge-local-host';

const HOOK_NAMES = new Set(['preInvocation', 'postInvocation', 'appStart', 'appTerminate', 'log']);

export class Disposable {
  static from(...items: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }

  #callOnDispose?: () => unknown;

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  dispose(): unknown {
    const fn = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return fn?.();
  }
}

export function registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
  const functionId = metadata.functionId || metadata.name;
  if (worker.functions.has(functionId)) throw new Error(`A function with id "${functionId}" has already been registered.`);
  worker.functions.set(functionId, { metadata: { ...metadata, functionId }, callback, entryPoint: worker.currentEntryPoint });
  return new Disposable(() => worker.functions.delete(functionId));
}

export function registerHook(hookName: string, callback: HookCallback): Disposable {
  if (!HOOK_NAMES.has(hookName)) throw new RangeError(`"${hookName}" is not a valid hook name.`);
  const hooks = worker.hooks.get(hookName) ?? [];
  hooks.push(callback);
  worker.hooks.set(hookName, hooks);
  return new Disposable(() => {
    const at = hooks.indexOf(callback);
    if (at >= 0) hooks.splice(at, 1);
  });
}

export function setProgrammingModel(model: ProgrammingModel): void {
  if (worker.programmingModel)
    log('information', 'system', `Setting Node.js programming model to "${model.name}" version "${model.version}"`);
  worker.programmingModel = model;
}

export function getProgrammingModel(): ProgrammingModel | undefined {
  return worker.programmingModel;
}

export function log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
  worker.log({ level, category, message });
}
