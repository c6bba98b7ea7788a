/**
 * Loading and indexing an app as the Node worker and the Functions host do:
 * 1. `require('@azure/functions-core')` returns our stand-in (core/), as the worker's built-in module;
 * 2. `package.json` `main` is loaded: `@azure/functions` registers every function (name + bindings)
 *    and the app's hooks through it;
 * 3. the host indexes the registered metadata: `%SETTING%` in binding properties is resolved from
 *    the app settings; a function whose setting is unset fails indexing (and is not run), the others
 *    start. `AzureWebJobs.<name>.Disabled` and the host's `functions` list leave functions out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Module from 'node:module';
import * as core from './core';
import { worker, type RegisteredFunction } from './core/worker';
import type { FunctionCallback, FunctionMetadata, RpcBindingInfo } from './core/types';
import { resolveSettingRefs } from './hostConfig';

let installed = false;

/** Makes `require('@azure/functions-core')` return the stand-in, as the worker does with its built-in module. */
export function installCoreModule(): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: unknown[]) {
      return args[0] === '@azure/functions-core' ? core : (Reflect.apply(target, thisArg, args) as unknown);
    },
  });
}

const loaded = new Map<string, Promise<string>>();

/**
 * Loads the app's entry point (`main` of `<dir>/package.json`) once per process, as the worker does,
 * and returns its path. Errors carry the worker's wording ("Worker was unable to load entry point").
 */
export function loadApp(dir: string): Promise<string> {
  const pkgFile = resolve(dir, 'package.json');
  const main = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as { main?: unknown }).main : undefined;
  if (typeof main !== 'string' || main === '') throw new Error(`${pkgFile} has no "main": the worker finds the app's functions through it`);
  if (/[*?[\]{}!]/.test(main)) throw new Error(`package.json "main" is the glob "${main}": the local host loads one entry point file`);
  const entry = resolve(dir, main);
  let done = loaded.get(entry);
  if (!done) {
    done = (async () => {
      if (!existsSync(entry)) throw new Error(`Worker was unable to load entry point "${main}": File does not exist (run npm run build)`);
      installCoreModule();
      worker.currentEntryPoint = entry;
      try {
        // A real require (Jest's inside tests): the app and @azure/functions see the stand-in module.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the app as the worker does
        require(entry);
      } catch (err) {
        throw new Error(`Worker was unable to load entry point "${main}": ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      } finally {
        worker.currentEntryPoint = undefined;
      }
      // The worker asks the programming model for its capabilities once the app is loaded.
      const capabilities = await worker.programmingModel?.getCapabilities?.({});
      if (capabilities?.HttpUri)
        throw new Error('HTTP streaming (app.setup({ enableHttpStream: true })) is not supported by the local host');
      return entry;
    })();
    loaded.set(entry, done);
    done.catch(() => loaded.delete(entry));
  }
  return done;
}

/** A binding after the host resolved its `%SETTING%` references. */
export type ResolvedBinding = RpcBindingInfo & { name: string; type: string };

/** The storage connection (app setting prefix) a binding names; the host's default is AzureWebJobsStorage. */
export function connectionOf(binding: ResolvedBinding): string {
  return typeof binding.connection === 'string' && binding.connection !== '' ? binding.connection : 'AzureWebJobsStorage';
}

export interface IndexedFunction {
  name: string;
  functionId: string;
  /** The metadata as registered (what the programming model gets, `%SETTING%` unresolved as in Azure). */
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  trigger: ResolvedBinding;
  /** Output bindings other than the HTTP `$return`. */
  outputs: ResolvedBinding[];
}

export interface IndexResult {
  functions: IndexedFunction[];
  /** Functions that failed indexing, with the host's error (they do not run). */
  errors: { name: string; error: string }[];
}

export interface IndexOptions {
  /** Entry point whose functions are indexed (functions registered outside any entry point are indexed too). */
  entryPoint?: string;
  /** Only these functions (Core Tools' `func start --functions`). */
  only?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

const NOT_RESOLVED = ['name', 'type', 'direction', 'properties', 'dataType'];

function resolveBinding(name: string, binding: RpcBindingInfo, env: NodeJS.ProcessEnv): ResolvedBinding {
  const out: Record<string, unknown> = { ...binding, name, type: String(binding.type ?? '') };
  for (const [key, value] of Object.entries(binding)) {
    if (typeof value === 'string' && !NOT_RESOLVED.includes(key)) out[key] = resolveSettingRefs(value, env);
  }
  return out as ResolvedBinding;
}

export function indexFunctions(options: IndexOptions = {}): IndexResult {
  const env = options.env ?? process.env;
  const result: IndexResult = { functions: [], errors: [] };
  for (const reg of worker.functions.values()) {
    if (reg.entryPoint !== undefined && reg.entryPoint !== options.entryPoint) continue;
    const name = reg.metadata.name;
    if (options.only && !options.only.includes(name)) continue;
    if (/^(true|1)$/i.test(env[`AzureWebJobs.${name}.Disabled`] ?? '')) continue;
    try {
      result.functions.push(indexOne(reg, env));
    } catch (err) {
      result.errors.push({ name, error: `Error indexing method 'Functions.${name}'. ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return result;
}

function indexOne(reg: RegisteredFunction, env: NodeJS.ProcessEnv): IndexedFunction {
  const { metadata } = reg;
  let trigger: ResolvedBinding | undefined;
  const outputs: ResolvedBinding[] = [];
  for (const [bindingName, binding] of Object.entries(metadata.bindings)) {
    const resolved = resolveBinding(bindingName, binding, env);
    if (/trigger$/i.test(resolved.type)) {
      if (trigger) throw new Error(`Multiple trigger bindings ('${trigger.name}', '${bindingName}') are not supported.`);
      trigger = resolved;
    } else if (resolved.direction === 'out' && resolved.type !== 'http') {
      outputs.push(resolved);
    }
  }
  if (!trigger) throw new Error('No trigger binding specified.');
  return { name: metadata.name, functionId: metadata.functionId ?? metadata.name, metadata, callback: reg.callback, trigger, outputs };
}
