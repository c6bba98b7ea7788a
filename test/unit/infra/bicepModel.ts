/**
 * Offline model of the Bicep files (the Bicep CLI cannot be installed here): parse with
 * tree-sitter-bicep, report syntax errors with file:line:column, and evaluate the subset of Bicep
 * expressions the infra uses (literals, params, vars, interpolation, lambdas, union/concat/flatten/
 * map/toObject/...), so tests can read the app settings and the queues exactly as deployed.
 *
 * Values ARM only knows at deployment time (resource properties, module outputs, uniqueString...) are
 * UNKNOWN; a string interpolating one keeps its known text with UNKNOWN_TEXT in place of the unknown
 * part (so `'@Microsoft.KeyVault(VaultName=${kv};SecretName=x)'` stays checkable).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

export const UNKNOWN: unique symbol = Symbol('unknown at deployment time');
/** Stands in a string for a part only known at deployment time. */
export const UNKNOWN_TEXT = '\u2047';

export type BicepValue = string | number | boolean | null | typeof UNKNOWN | BicepValue[] | { [key: string]: BicepValue };

let parserPromise: Promise<Parser> | undefined;

/** The tree-sitter parser for Bicep (WASM, loaded once per process). */
export function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    // Bytes, not a path: loading by path uses a dynamic import() that Jest's VM does not allow.
    const language = await Language.load(readFileSync(require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm')));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

function children(node: Node): Node[] {
  return node.children.filter((c): c is Node => c !== null);
}

function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/** `file:line:column: what` for every ERROR and MISSING node (1-based line and column). */
export function syntaxErrors(tree: Tree, file: string): string[] {
  const errors: string[] = [];
  const walk = (node: Node) => {
    if (node.type === 'ERROR' || node.isMissing) {
      const where = `${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      const text = node.text.replace(/\s+/g, ' ').slice(0, 60);
      errors.push(node.isMissing ? `${where}: missing ${node.type}` : `${where}: syntax error near "${text}"`);
      if (node.type === 'ERROR') return; // one report per broken region
    }
    for (const child of children(node)) walk(child);
  };
  walk(tree.rootNode);
  return errors;
}

export interface BicepDeclaration {
  name: string;
  node: Node;
}

/** One parsed .bicep file and its top-level declarations. */
export class BicepFile {
  readonly params = new Map<string, { default?: Node }>();
  readonly vars = new Map<string, Node>();
  /** Resource symbol → {type, body node (object, for_statement or if_statement)}. */
  readonly resources = new Map<string, { type: string; body: Node }>();
  /** Module symbol → {path (resolved), body node}. */
  readonly modules = new Map<string, { path: string; body: Node }>();
  readonly outputs = new Set<string>();
  readonly errors: string[];

  constructor(
    readonly path: string,
    readonly tree: Tree,
  ) {
    this.errors = syntaxErrors(tree, path);
    for (const decl of namedChildren(tree.rootNode)) {
      const parts = namedChildren(decl);
      const name = parts[0]?.text ?? '';
      switch (decl.type) {
        case 'parameter_declaration': {
          // identifier, type, [default expression]
          const defaultNode = parts.length >= 3 ? parts[parts.length - 1] : undefined;
          this.params.set(name, defaultNode ? { default: defaultNode } : {});
          break;
        }
        case 'variable_declaration':
          this.vars.set(name, parts[parts.length - 1]);
          break;
        case 'resource_declaration':
          this.resources.set(name, { type: stringLiteral(parts[1]), body: parts[parts.length - 1] });
          break;
        case 'output_declaration':
          this.outputs.add(name);
          break;
        case 'module_declaration':
          this.modules.set(name, { path: resolve(dirname(path), stringLiteral(parts[1])), body: parts[parts.length - 1] });
          break;
        default:
          break;
      }
    }
  }

  /** `<module>.outputs.<name>` references in this file, with their location. */
  moduleOutputReferences(): { module: string; output: string; at: string }[] {
    const refs: { module: string; output: string; at: string }[] = [];
    const walk = (node: Node) => {
      if (node.type === 'member_expression') {
        const object = node.childForFieldName('object');
        if (object?.type === 'member_expression' && object.childForFieldName('property')?.text === 'outputs') {
          const module = object.childForFieldName('object')!;
          if (module.type === 'identifier' && this.modules.has(module.text)) {
            refs.push({ module: module.text, output: node.childForFieldName('property')!.text, at: where(node, this.path) });
          }
        }
      }
      for (const child of children(node)) walk(child);
    };
    walk(this.tree.rootNode);
    return refs;
  }

  /** Resources whose type starts with `typePrefix` (e.g. `Microsoft.Storage/storageAccounts/queueServices/queues@`). */
  resourcesOfType(typePrefix: string): { name: string; type: string; body: Node }[] {
    return [...this.resources].filter(([, r]) => r.type.startsWith(typePrefix)).map(([name, r]) => ({ name, ...r }));
  }
}

/** Parses a .bicep file (source may be given, e.g. a mutated copy in a test). */
export async function parseBicepFile(path: string, source = readFileSync(path, 'utf8')): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter could not parse ${path}`);
  return new BicepFile(path, tree);
}

function stringLiteral(node: Node): string {
  if (node.type !== 'string')
    throw new Error(`expected a string literal at ${node.startPosition.row + 1}:${node.startPosition.column + 1}, got ${node.type}`);
  return namedChildren(node)
    .map((part) =>
      part.type === 'string_content' ? unescape(part.text) : part.type === 'escape_sequence' ? unescape(part.text) : UNKNOWN_TEXT,
    )
    .join('');
}

/** Bicep string escapes: \\ \' \n \r \t \$ \u{XXXX}. Multi-line ('''...''') strings have none. */
function unescape(text: string): string {
  return text.replace(/\\(u\{[0-9a-fA-F]+\}|.)/g, (_, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    return ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
  });
}

export function isKnown(value: BicepValue): boolean {
  if (value === UNKNOWN) return false;
  if (typeof value === 'string') return !value.includes(UNKNOWN_TEXT);
  if (Array.isArray(value)) return value.every(isKnown);
  if (value && typeof value === 'object') return Object.values(value).every(isKnown);
  return true;
}

type Locals = ReadonlyMap<string, BicepValue>;

/** Functions whose result depends on the deployment (never computable offline). */
const DEPLOYMENT_FUNCTIONS = new Set([
  'uniqueString',
  'subscription',
  'resourceGroup',
  'tenant',
  'deployment',
  'environment',
  'guid',
  'newGuid',
  'utcNow',
  'subscriptionResourceId',
  'resourceId',
  'tenantResourceId',
  'extensionResourceId',
  'reference',
  'listKeys',
  'deployer',
]);

/**
 * Evaluates expressions of one Bicep file with given parameter values (missing ones take their
 * default). Throws on syntax it does not know, naming file:line:column, so a test never passes by
 * silently misreading the infra.
 */
export class BicepScope {
  private readonly varCache = new Map<string, BicepValue>();

  constructor(
    readonly file: BicepFile,
    private readonly paramValues: Readonly<Record<string, BicepValue>> = {},
  ) {}

  param(name: string): BicepValue {
    if (Object.prototype.hasOwnProperty.call(this.paramValues, name)) return this.paramValues[name]!;
    const p = this.file.params.get(name);
    if (!p) throw new Error(`${this.file.path}: no param ${name}`);
    if (!p.default) throw new Error(`${this.file.path}: param ${name} has no value and no default`);
    return this.evaluate(p.default);
  }

  variable(name: string): BicepValue {
    if (!this.varCache.has(name)) {
      const node = this.file.vars.get(name);
      if (!node) throw new Error(`${this.file.path}: no var ${name}`);
      this.varCache.set(name, this.evaluate(node));
    }
    return this.varCache.get(name)!;
  }

  /** The value of a named symbol: lambda variable, param, var; resources and modules are UNKNOWN. */
  symbol(name: string, locals: Locals = new Map()): BicepValue {
    if (locals.has(name)) return locals.get(name)!;
    if (this.file.params.has(name)) return this.param(name);
    if (this.file.vars.has(name)) return this.variable(name);
    if (this.file.resources.has(name) || this.file.modules.has(name)) return UNKNOWN;
    throw new Error(`${this.file.path}: unknown symbol ${name}`);
  }

  /** Parameter values a module declaration passes to its module file. */
  moduleParams(moduleName: string): Record<string, BicepValue> {
    const mod = this.file.modules.get(moduleName);
    if (!mod) throw new Error(`${this.file.path}: no module ${moduleName}`);
    const body = objectBody(mod.body, this.file.path);
    const paramsNode = objectProperty(body, 'params');
    if (!paramsNode) return {};
    const value = this.evaluate(paramsNode);
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`${this.file.path}: module ${moduleName} params must be an object`);
    return value;
  }

  /**
   * Names a resource declaration creates: one for a plain resource, one per item for a `[for ...]`
   * loop, none for a false `if`.
   */
  resourceNames(resourceSymbol: string): BicepValue[] {
    const r = this.file.resources.get(resourceSymbol);
    if (!r) throw new Error(`${this.file.path}: no resource ${resourceSymbol}`);
    return this.instances(r.body, new Map()).map(({ body, locals }) => {
      const nameNode = objectProperty(body, 'name');
      if (!nameNode) throw new Error(`${this.file.path}: resource ${resourceSymbol} has no name`);
      return this.evaluate(nameNode, locals);
    });
  }

  /** Each instance a resource declaration deploys: its object body and the loop variable(s) in scope. */
  resourceInstances(resourceSymbol: string): { body: Node; locals: Locals }[] {
    const r = this.file.resources.get(resourceSymbol);
    if (!r) throw new Error(`${this.file.path}: no resource ${resourceSymbol}`);
    return this.instances(r.body, new Map());
  }

  private instances(node: Node, locals: Locals): { body: Node; locals: Locals }[] {
    if (node.type === 'object') return [{ body: node, locals }];
    if (node.type === 'if_statement') {
      const [condition, body] = namedChildren(node);
      const c = this.evaluate(condition, locals);
      if (c === UNKNOWN) throw new Error(`${where(node, this.file.path)}: condition not computable offline`);
      return c ? this.instances(body, locals) : [];
    }
    if (node.type === 'for_statement') {
      const parts = namedChildren(node);
      const body = parts[parts.length - 1];
      const iterable = this.evaluate(parts[parts.length - 2], locals);
      const variable = parts[0];
      if (variable.type !== 'identifier') throw new Error(`${where(node, this.file.path)}: only [for item in ...] loops are supported`);
      if (!Array.isArray(iterable)) throw new Error(`${where(node, this.file.path)}: loop over a value not computable offline`);
      return iterable.flatMap((item) => this.instances(body, new Map([...locals, [variable.text, item]])));
    }
    throw new Error(`${where(node, this.file.path)}: unsupported resource body ${node.type}`);
  }

  evaluate(node: Node, locals: Locals = new Map()): BicepValue {
    const at = () => where(node, this.file.path);
    switch (node.type) {
      case 'string':
        return this.evaluateString(node, locals);
      case 'number':
        return Number(node.text);
      case 'boolean':
        return node.text === 'true';
      case 'null':
        return null;
      case 'identifier':
        return this.symbol(node.text, locals);
      case 'parenthesized_expression':
        return this.evaluate(namedChildren(node)[0], locals);
      case 'array':
        return namedChildren(node).map((item) => this.evaluate(item, locals));
      case 'object': {
        const result: Record<string, BicepValue> = {};
        for (const prop of namedChildren(node)) {
          if (prop.type !== 'object_property') continue;
          const [keyNode, valueNode] = namedChildren(prop);
          const key = keyNode.type === 'string' ? stringLiteral(keyNode) : keyNode.text;
          result[key] = this.evaluate(valueNode, locals);
        }
        return result;
      }
      case 'member_expression': {
        const object = this.evaluate(node.childForFieldName('object')!, locals);
        return member(object, node.childForFieldName('property')!.text);
      }
      case 'subscript_expression': {
        const object = this.evaluate(node.childForFieldName('object')!, locals);
        const index = this.evaluate(node.childForFieldName('index')!, locals);
        if (index === UNKNOWN || object === UNKNOWN) return UNKNOWN;
        if (Array.isArray(object) && typeof index === 'number') return object[index] ?? UNKNOWN;
        return member(object, String(index));
      }
      case 'ternary_expression': {
        const condition = this.evaluate(node.childForFieldName('condition')!, locals);
        if (condition === UNKNOWN) return UNKNOWN;
        return this.evaluate(node.childForFieldName(condition ? 'consequence' : 'alternative')!, locals);
      }
      case 'unary_expression': {
        const op = children(node)[0].text;
        const value = this.evaluate(namedChildren(node)[0], locals);
        if (value === UNKNOWN) return UNKNOWN;
        if (op === '!') return !value;
        if (op === '-') return -(value as number);
        throw new Error(`${at()}: unsupported operator ${op}`);
      }
      case 'binary_expression': {
        const left = this.evaluate(node.childForFieldName('left')!, locals);
        const right = this.evaluate(node.childForFieldName('right')!, locals);
        const op = children(node).find((c) => !c.isNamed)?.text;
        return binary(op ?? '', left, right, at);
      }
      case 'call_expression':
        return this.call(node, locals);
      default:
        throw new Error(`${at()}: expression ${node.type} is not supported by the offline evaluator`);
    }
  }

  private evaluateString(node: Node, locals: Locals): BicepValue {
    let text = '';
    for (const part of namedChildren(node)) {
      if (part.type === 'string_content' || part.type === 'escape_sequence') {
        text += unescape(part.text);
      } else if (part.type === 'interpolation') {
        const value = this.evaluate(namedChildren(part)[0], locals);
        text += value === UNKNOWN ? UNKNOWN_TEXT : typeof value === 'string' ? value : JSON.stringify(value);
      } else {
        throw new Error(`${where(part, this.file.path)}: unsupported string part ${part.type}`);
      }
    }
    return text;
  }

  private call(node: Node, locals: Locals): BicepValue {
    const at = () => where(node, this.file.path);
    const fn = node.childForFieldName('function')!.text;
    const argNodes = namedChildren(node.childForFieldName('arguments') ?? namedChildren(node)[1]);
    if (DEPLOYMENT_FUNCTIONS.has(fn)) return UNKNOWN;
    const lambda = (argNode: Node | undefined) => {
      // tree-sitter-bicep 1.1 parses `x => x.queue` as `(x => x).queue`: peel such accessors off and
      // apply them to the lambda body's value, as Bicep does.
      const accessors: Node[] = [];
      let node = argNode;
      while (node && (node.type === 'member_expression' || node.type === 'subscript_expression')) {
        accessors.unshift(node);
        node = node.childForFieldName('object') ?? undefined;
      }
      if (!node || node.type !== 'lambda_expression') throw new Error(`${at()}: ${fn} expects a lambda`);
      const parts = namedChildren(node);
      const params = parts.slice(0, -1).flatMap((p) => (p.type === 'identifier' ? [p.text] : namedChildren(p).map((q) => q.text)));
      const body = parts[parts.length - 1];
      return (...values: BicepValue[]) => {
        const scope = new Map([...locals, ...params.map((p, i) => [p, values[i] ?? null] as const)]);
        let value = this.evaluate(body, scope);
        for (const accessor of accessors) {
          if (accessor.type === 'member_expression') value = member(value, accessor.childForFieldName('property')!.text);
          else value = member(value, String(this.evaluate(accessor.childForFieldName('index')!, scope)));
        }
        return value;
      };
    };
    const args = () => argNodes.map((a) => this.evaluate(a, locals));
    const arrayArg = (value: BicepValue): BicepValue[] | typeof UNKNOWN => {
      if (value === UNKNOWN) return UNKNOWN;
      if (!Array.isArray(value)) throw new Error(`${at()}: ${fn} expects an array`);
      return value;
    };
    switch (fn) {
      case 'union':
      case 'concat': {
        const values = args();
        if (values.some((v) => v === UNKNOWN)) return UNKNOWN;
        if (values.every((v) => typeof v === 'string')) return values.join('');
        if (values.every(Array.isArray)) {
          const all = (values as BicepValue[][]).flat();
          return fn === 'concat' ? all : all.filter((v, i) => all.findIndex((w) => JSON.stringify(w) === JSON.stringify(v)) === i);
        }
        if (values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v)))
          return Object.assign({}, ...(values as object[]));
        throw new Error(`${at()}: ${fn} of mixed types`);
      }
      case 'flatten': {
        const a = arrayArg(args()[0]);
        if (a === UNKNOWN) return UNKNOWN;
        return a.flatMap((x) => (Array.isArray(x) ? x : [x]));
      }
      case 'map': {
        const a = arrayArg(this.evaluate(argNodes[0], locals));
        if (a === UNKNOWN) return UNKNOWN;
        const f = lambda(argNodes[1]);
        return a.map((x, i) => f(x, i));
      }
      case 'filter': {
        const a = arrayArg(this.evaluate(argNodes[0], locals));
        if (a === UNKNOWN) return UNKNOWN;
        const f = lambda(argNodes[1]);
        const kept: BicepValue[] = [];
        for (const [i, x] of a.entries()) {
          const keep = f(x, i);
          if (keep === UNKNOWN) return UNKNOWN;
          if (keep) kept.push(x);
        }
        return kept;
      }
      case 'toObject': {
        const a = arrayArg(this.evaluate(argNodes[0], locals));
        if (a === UNKNOWN) return UNKNOWN;
        const key = lambda(argNodes[1]);
        const value = argNodes[2] ? lambda(argNodes[2]) : (x: BicepValue) => x;
        const result: Record<string, BicepValue> = {};
        for (const x of a) {
          const k = key(x);
          if (typeof k !== 'string') return UNKNOWN;
          result[k] = value(x);
        }
        return result;
      }
      case 'toLower':
      case 'toUpper': {
        const [s] = args();
        if (s === UNKNOWN) return UNKNOWN;
        if (typeof s !== 'string') throw new Error(`${at()}: ${fn} expects a string`);
        const converted = fn === 'toLower' ? s.toLowerCase() : s.toUpperCase();
        return converted.split(UNKNOWN_TEXT.toLowerCase()).join(UNKNOWN_TEXT);
      }
      case 'replace': {
        const [s, from, to] = args();
        if ([s, from, to].includes(UNKNOWN)) return UNKNOWN;
        return String(s).split(String(from)).join(String(to));
      }
      case 'items': {
        const [o] = args();
        if (o === UNKNOWN) return UNKNOWN;
        if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error(`${at()}: items expects an object`);
        return Object.keys(o)
          .sort()
          .map((key) => ({ key, value: (o as Record<string, BicepValue>)[key]! }));
      }
      case 'split': {
        const [v, sep] = args();
        if (v === UNKNOWN || sep === UNKNOWN) return UNKNOWN;
        if (typeof v !== 'string' || typeof sep !== 'string') throw new Error(`${at()}: split expects strings`);
        return v.split(sep);
      }
      case 'join': {
        const [a, sep] = args();
        if (a === UNKNOWN || sep === UNKNOWN || arrayArg(a) === UNKNOWN) return UNKNOWN;
        return (a as BicepValue[]).map(String).join(String(sep));
      }
      case 'take': {
        const [v, n] = args();
        if (v === UNKNOWN || n === UNKNOWN) return UNKNOWN;
        if (typeof v === 'string') return v.includes(UNKNOWN_TEXT) ? UNKNOWN : v.slice(0, Number(n));
        return arrayArg(v) === UNKNOWN ? UNKNOWN : (v as BicepValue[]).slice(0, Number(n));
      }
      case 'empty': {
        const [v] = args();
        if (v === UNKNOWN) return UNKNOWN;
        if (v === null || v === '') return true;
        if (typeof v === 'string') return false;
        if (Array.isArray(v)) return v.length === 0;
        if (typeof v === 'object') return Object.keys(v).length === 0;
        return false;
      }
      case 'length': {
        const [v] = args();
        if (v === UNKNOWN || (typeof v === 'string' && v.includes(UNKNOWN_TEXT))) return UNKNOWN;
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (v && typeof v === 'object') return Object.keys(v).length;
        throw new Error(`${at()}: length of ${typeof v}`);
      }
      case 'contains': {
        const [container, item] = args();
        if (!isKnown(container) || !isKnown(item)) return UNKNOWN;
        if (typeof container === 'string') return container.includes(String(item));
        if (Array.isArray(container)) return container.some((x) => JSON.stringify(x) === JSON.stringify(item));
        if (container && typeof container === 'object') return Object.prototype.hasOwnProperty.call(container, String(item));
        return false;
      }
      case 'string': {
        const [v] = args();
        if (!isKnown(v)) return UNKNOWN;
        return typeof v === 'string' ? v : JSON.stringify(v);
      }
      case 'json': {
        const [v] = args();
        if (!isKnown(v)) return UNKNOWN;
        return JSON.parse(String(v)) as BicepValue;
      }
      case 'loadTextContent':
      case 'loadJsonContent': {
        const [path] = args();
        if (typeof path !== 'string' || !isKnown(path)) throw new Error(`${at()}: ${fn} needs a literal path`);
        const text = readFileSync(resolve(dirname(this.file.path), path), 'utf8');
        return fn === 'loadTextContent' ? text : (JSON.parse(text) as BicepValue);
      }
      default:
        throw new Error(`${at()}: function ${fn}() is not supported by the offline evaluator`);
    }
  }
}

function member(object: BicepValue, property: string): BicepValue {
  if (object === UNKNOWN) return UNKNOWN;
  if (object && typeof object === 'object' && !Array.isArray(object)) return object[property] ?? UNKNOWN;
  return UNKNOWN;
}

function binary(op: string, left: BicepValue, right: BicepValue, at: () => string): BicepValue {
  if (op === '&&' && (left === false || right === false)) return false;
  if (op === '||' && (left === true || right === true)) return true;
  if (op === '??') return left === null ? right : left;
  if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
  switch (op) {
    case '==':
      return JSON.stringify(left) === JSON.stringify(right);
    case '!=':
      return JSON.stringify(left) !== JSON.stringify(right);
    case '&&':
      return Boolean(left && right);
    case '||':
      return Boolean(left || right);
    case '+':
      return (left as number) + (right as number);
    case '-':
      return (left as number) - (right as number);
    case '*':
      return (left as number) * (right as number);
    case '<':
      return (left as number) < (right as number);
    case '>':
      return (left as number) > (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>=':
      return (left as number) >= (right as number);
    default:
      throw new Error(`${at()}: unsupported operator ${op}`);
  }
}

export function objectBody(node: Node, file: string): Node {
  if (node.type === 'object') return node;
  if (node.type === 'if_statement' || node.type === 'for_statement') {
    const parts = namedChildren(node);
    return objectBody(parts[parts.length - 1], file);
  }
  throw new Error(`${where(node, file)}: expected an object body`);
}

/** Every `key: value` property anywhere under `root` whose key is one of `keys`: [key, value node]. */
export function propertiesNamed(root: Node, keys: readonly string[]): [string, Node][] {
  const found: [string, Node][] = [];
  const walk = (node: Node) => {
    if (node.type === 'object') for (const [k, v] of objectProperties(node)) if (keys.includes(k)) found.push([k, v]);
    for (const child of children(node)) walk(child);
  };
  walk(root);
  return found;
}

/** `[key, value node]` of every property of an object literal. */
export function objectProperties(objectNode: Node): [string, Node][] {
  return namedChildren(objectNode).flatMap((prop) => {
    if (prop.type !== 'object_property') return [];
    const [k, v] = namedChildren(prop);
    return [[k.type === 'string' ? stringLiteral(k) : k.text, v] as [string, Node]];
  });
}

/** The value node of `key:` in an object literal. */
export function objectProperty(objectNode: Node, key: string): Node | undefined {
  for (const prop of namedChildren(objectNode)) {
    if (prop.type !== 'object_property') continue;
    const [k, v] = namedChildren(prop);
    const name = k.type === 'string' ? stringLiteral(k) : k.text;
    if (name === key) return v;
  }
  return undefined;
}

export function where(node: Node, file: string): string {
  return `${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
}

/**
 * Values of an ARM JSON parameter file (`{"parameters": {"x": {"value": ...}}}`). azd-style
 * `${VAR}` / `${VAR=default}` references are substituted from `env` (unset = empty), as `azd` does.
 */
export function readParameterFile(path: string, env: Readonly<Record<string, string>> = {}): Record<string, BicepValue> {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { parameters?: Record<string, { value?: unknown; reference?: unknown }> };
  const substitute = (v: unknown): BicepValue => {
    if (typeof v === 'string')
      return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}/g, (_, name: string, dflt?: string) => env[name] ?? dflt ?? '');
    if (Array.isArray(v)) return v.map(substitute);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x)]));
    return v as BicepValue;
  };
  const values: Record<string, BicepValue> = {};
  for (const [name, p] of Object.entries(doc.parameters ?? {})) {
    values[name] = p.reference !== undefined ? UNKNOWN : substitute(p.value);
  }
  return values;
}
