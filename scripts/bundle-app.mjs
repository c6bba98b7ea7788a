#!/usr/bin/env node
// Bundles the Function App into what Azure runs (`npm run build` runs it after tsc):
// - dist/app/main.js, package.json `main`: the telemetry registration first, then every file of functions/
//   (found here, at build time: a new function file needs no other edit), then shared/lifecycle.ts; with the
//   app's dependencies (Storage, Identity, zod, …) inside, so the package needs no node_modules but these externals:
//     @azure/functions   the worker's programming model: it must stay the module the worker and
//                        AzureFunctionsInstrumentation see (the instrumentation patches it when it is required)
//     @opentelemetry/api one copy for the app, the SDK and the Azure SDK bridge (its globals are per copy)
// - dist/app/telemetry.js: shared/telemetry/openTelemetrySdk.ts and the OpenTelemetry SDK, loaded only when
//   telemetry is on (setup.ts requires it lazily).
// - dist/app/azure-sdk.js, core-tracing.js, zod.js: the dependencies, each read on its first require (the app
//   requires Storage lazily), so that loading main.js stays as cheap as loading the unbundled app.
// Source maps beside them (`NODE_OPTIONS=--enable-source-maps` maps stack traces to the TypeScript files).
// Usage: node scripts/bundle-app.mjs [--root <app folder>] (default: this repository).
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const EXTERNAL = ['@azure/functions', '@azure/functions-core', '@opentelemetry/api'];

/**
 * Chunks of dependencies: file → the packages it holds (one copy of each in all of dist/app). @azure/core-tracing has
 * a chunk of its own, which the Azure SDK chunk uses too: telemetry installs its tracing bridge on that one copy
 * without loading the SDK.
 */
const CHUNKS = {
  'azure-sdk': {
    '@azure/storage-blob': 'storageBlob',
    '@azure/storage-queue': 'storageQueue',
    '@azure/identity': 'identity',
  },
  'core-tracing': { '@azure/core-tracing': 'coreTracing' },
  zod: { zod: 'zod' },
};

/** The app's entry: what functions/index.ts did at run time (load every function file), decided at build time. */
export function entrySource(root) {
  const files = readdirSync(join(root, 'functions'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'index.ts')
    .sort();
  return [
    "import '../shared/telemetry/register'; // first: OpenTelemetry when configured (before @azure/functions loads)",
    ...files.map((f) => `import './${f.slice(0, -'.ts'.length)}';`),
    "import '../shared/lifecycle';",
    '',
  ].join('\n');
}

export async function bundleApp(root) {
  const outdir = join(root, 'dist', 'app');
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: EXTERNAL,
    sourcemap: 'linked',
    sourcesContent: false,
    keepNames: false,
    logLevel: 'warning',
    // ESM-only code in dependencies (createRequire(import.meta.url)) still finds its file in the CJS bundle.
    banner: { js: "const __bundleImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__bundleImportMetaUrl' },
  };
  const telemetryChunk = {
    name: 'telemetry-chunk',
    setup(b) {
      b.onResolve({ filter: /\/openTelemetrySdk$/ }, () => ({ path: './telemetry.js', external: true }));
    },
  };
  // `require('<package>')` of a package of another chunk becomes `require('./<chunk>.js').<name>`, in main.js and in
  // the chunks themselves.
  const dependencyChunks = (building) => ({
    name: 'dependency-chunks',
    setup(b) {
      const owner = new Map(
        Object.entries(CHUNKS)
          .filter(([chunk]) => chunk !== building)
          .flatMap(([chunk, pkgs]) => Object.entries(pkgs).map(([pkg, name]) => [pkg, { chunk, name }])),
      );
      b.onResolve({ filter: /^[@a-z]/ }, (args) => (owner.has(args.path) ? { path: args.path, namespace: 'chunk' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'chunk' }, (args) => {
        const { chunk, name } = owner.get(args.path);
        return { contents: `module.exports = require('./${chunk}.js').${name};`, loader: 'js' };
      });
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/, namespace: 'chunk' }, (args) => ({ path: args.path, external: true }));
    },
  });
  const chunks = await Promise.all(
    Object.entries(CHUNKS).map(([chunk, pkgs]) =>
      build({
        ...common,
        stdin: {
          contents: Object.entries(pkgs)
            .map(([pkg, name]) => `export * as ${name} from '${pkg}';`)
            .join('\n'),
          resolveDir: root,
          sourcefile: `(${chunk} chunk).js`,
          loader: 'js',
        },
        outfile: join(outdir, `${chunk}.js`),
        plugins: [dependencyChunks(chunk)],
        metafile: true,
      }),
    ),
  );
  const main = await build({
    ...common,
    stdin: { contents: entrySource(root), resolveDir: join(root, 'functions'), sourcefile: 'functions/(every file).ts', loader: 'ts' },
    outfile: join(outdir, 'main.js'),
    plugins: [telemetryChunk, dependencyChunks('main')],
    metafile: true,
  });
  const telemetry = await build({
    ...common,
    entryPoints: [join(root, 'shared', 'telemetry', 'openTelemetrySdk.ts')],
    outfile: join(outdir, 'telemetry.js'),
    metafile: true,
  });
  return {
    outdir,
    outputs: Object.assign({}, main.metafile.outputs, telemetry.metafile.outputs, ...chunks.map((c) => c.metafile.outputs)),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { root: { type: 'string' } } });
  const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { outputs } = await bundleApp(root);
  for (const [file, { bytes }] of Object.entries(outputs))
    if (file.endsWith('.js')) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KiB`);
}
