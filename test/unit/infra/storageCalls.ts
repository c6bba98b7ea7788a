/**
 * The Azure SDK calls the app makes, found from the code with the TypeScript compiler: every call
 * expression in the given directories whose method is declared by a class of an Azure SDK package
 * (`@azure/storage-queue`, `@azure/storage-blob`, `@azure/keyvault-secrets`), named
 * `<declaring class>.<method>` (an inherited method keeps the class that declares it, e.g.
 * `BlobClient.download` for a BlockBlobClient). Type-based, so variable names, wrappers and
 * destructuring do not hide a call, and `Map.delete` is never mistaken for `QueueClient.delete`.
 */
import { join, relative } from 'node:path';
import ts from 'typescript';
import { filesUnder, REPO_ROOT } from './deploymentChecks';

export const SDK_PACKAGES = ['@azure/storage-queue', '@azure/storage-blob', '@azure/keyvault-secrets'] as const;

export interface SdkCall {
  /** `<declaring class>.<method>`, e.g. `QueueClient.sendMessage`. */
  operation: string;
  package: (typeof SDK_PACKAGES)[number];
  /** `path:line` of the call, relative to the repository. */
  at: string;
}

function sdkPackageOf(fileName: string): SdkCall['package'] | undefined {
  const normalized = fileName.replace(/\\/g, '/');
  return SDK_PACKAGES.find((p) => normalized.includes(`/node_modules/${p}/`));
}

/** The SDK calls in the TypeScript files under `dirs` (relative to the repository root). */
export function sdkCalls(dirs: readonly string[], extraSources: Record<string, string> = {}): SdkCall[] {
  const configPath = join(REPO_ROOT, 'tsconfig.json');
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, (p) => ts.sys.readFile(p)).config, ts.sys, REPO_ROOT);
  const roots = dirs.flatMap((d) => filesUnder(join(REPO_ROOT, d), '.ts')).filter((f) => !f.endsWith('.d.ts'));
  const extra = Object.keys(extraSources).map((f) => join(REPO_ROOT, f));
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => extraSources[relative(REPO_ROOT, file)] ?? readFile(file);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => relative(REPO_ROOT, file) in extraSources || fileExists(file);
  const program = ts.createProgram({
    rootNames: [...roots, ...extra],
    options: { ...config.options, noEmit: true, types: [], skipLibCheck: true },
    host,
  });
  // Ask the (costly) checker only about calls whose name an SDK class declares.
  const sdkMethodNames = new Set<string>();
  for (const sdkFile of program.getSourceFiles().filter((f) => sdkPackageOf(f.fileName))) {
    const collect = (node: ts.Node) => {
      if (
        (ts.isMethodDeclaration(node) || ts.isMethodSignature(node) || ts.isPropertyDeclaration(node)) &&
        node.name &&
        ts.isIdentifier(node.name)
      )
        sdkMethodNames.add(node.name.text);
      ts.forEachChild(node, collect);
    };
    collect(sdkFile);
  }
  if (sdkMethodNames.size === 0) throw new Error(`no declarations of ${SDK_PACKAGES.join(', ')} were loaded: is the code importing them?`);
  const checker = program.getTypeChecker();
  const calls: SdkCall[] = [];
  for (const file of [...roots, ...extra]) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && (ts.isPropertyAccessExpression(node.expression) || ts.isElementAccessExpression(node.expression))) {
        const nameNode = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression.argumentExpression;
        const symbol = sdkMethodNames.has(nameNode.getText(source).replace(/^['"]|['"]$/g, ''))
          ? checker.getSymbolAtLocation(nameNode)
          : undefined;
        for (const decl of symbol?.declarations ?? []) {
          const pkg = sdkPackageOf(decl.getSourceFile().fileName);
          const owner = decl.parent;
          if (!pkg || !(ts.isClassDeclaration(owner) || ts.isInterfaceDeclaration(owner)) || !owner.name) continue;
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          calls.push({ operation: `${owner.name.text}.${symbol!.name}`, package: pkg, at: `${relative(REPO_ROOT, file)}:${line + 1}` });
          break;
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return calls;
}
