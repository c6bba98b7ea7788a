/**
 * KQL, offline: the Kusto language service (@kusto/language-service-next, the parser and semantic
 * analyser behind Azure Data Explorer / Log Analytics editors) against a declared schema of the
 * Application Insights tables, and the discovery of every query written in the Bicep under infra/
 * (log alert `query`, workbook `serializedData` items). Reusable: `kqlDiagnostics(query)` and
 * `bicepQueries()`.
 */
import { relative } from 'node:path';
import { BicepScope, isKnown, parseBicepFile, propertiesNamed, UNKNOWN, UNKNOWN_TEXT, where, type BicepValue } from './bicepModel';
import { DEPLOY_LOCATION, filesUnder, INFRA_DIR, MAIN_BICEP, REPO_ROOT } from './deploymentChecks';
import type { Node } from 'web-tree-sitter';

// The Bridge.NET build has no usable types.
let language: any;
function kusto(): any {
  if (!language) {
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
    language = (globalThis as any).Kusto.Language;
  }
  return language;
}

const COMMON_CLASSIC =
  'timestamp:datetime, itemType:string, itemId:string, itemCount:int, customDimensions:dynamic, customMeasurements:dynamic, ' +
  'operation_Name:string, operation_Id:string, operation_ParentId:string, operation_SyntheticSource:string, session_Id:string, ' +
  'user_Id:string, user_AuthenticatedId:string, user_AccountId:string, application_Version:string, client_Type:string, ' +
  'client_Model:string, client_OS:string, client_IP:string, client_City:string, client_StateOrProvince:string, ' +
  'client_CountryOrRegion:string, client_Browser:string, cloud_RoleName:string, cloud_RoleInstance:string, appId:string, ' +
  'appName:string, iKey:string, sdkVersion:string';

const COMMON_WORKSPACE =
  'TenantId:string, TimeGenerated:datetime, _ResourceId:string, ResourceGUID:string, Type:string, ItemCount:int, ' +
  'Properties:dynamic, OperationName:string, OperationId:string, ParentId:string, SyntheticSource:string, SessionId:string, ' +
  'UserId:string, UserAuthenticatedId:string, UserAccountId:string, AppVersion:string, AppRoleName:string, AppRoleInstance:string, ' +
  'ClientType:string, ClientModel:string, ClientOS:string, ClientIP:string, ClientCity:string, ClientStateOrProvince:string, ' +
  'ClientCountryOrRegion:string, ClientBrowser:string, ResourceId:string, IKey:string, SDKVersion:string';

/**
 * Application Insights tables and their columns (Azure Monitor Logs reference): the classic names
 * that queries scoped to an Application Insights resource use, and the workspace-based App* tables.
 */
export const APP_INSIGHTS_SCHEMA: Readonly<Record<string, string>> = {
  requests: `${COMMON_CLASSIC}, id:string, source:string, name:string, url:string, success:bool, resultCode:string, duration:real, performanceBucket:string`,
  dependencies: `${COMMON_CLASSIC}, id:string, target:string, type:string, name:string, data:string, success:bool, resultCode:string, duration:real, performanceBucket:string`,
  traces: `${COMMON_CLASSIC}, message:string, severityLevel:int`,
  exceptions: `${COMMON_CLASSIC}, problemId:string, handledAt:string, type:string, message:string, assembly:string, method:string, outerType:string, outerMessage:string, outerAssembly:string, outerMethod:string, innermostType:string, innermostMessage:string, innermostAssembly:string, innermostMethod:string, severityLevel:int, details:dynamic`,
  customEvents: `${COMMON_CLASSIC}, name:string`,
  customMetrics: `${COMMON_CLASSIC}, name:string, value:real, valueCount:int, valueSum:real, valueMin:real, valueMax:real, valueStdDev:real`,
  availabilityResults: `${COMMON_CLASSIC}, id:string, name:string, location:string, success:bool, message:string, size:real, duration:real, performanceBucket:string`,
  AppRequests: `${COMMON_WORKSPACE}, Id:string, Name:string, Url:string, Success:bool, ResultCode:string, DurationMs:real, PerformanceBucket:string, Source:string, Measurements:dynamic`,
  AppDependencies: `${COMMON_WORKSPACE}, Id:string, Target:string, DependencyType:string, Name:string, Data:string, Success:bool, ResultCode:string, DurationMs:real, PerformanceBucket:string, Measurements:dynamic`,
  AppTraces: `${COMMON_WORKSPACE}, Message:string, SeverityLevel:int, Measurements:dynamic`,
  AppExceptions: `${COMMON_WORKSPACE}, ProblemId:string, HandledAt:string, ExceptionType:string, Assembly:string, Method:string, OuterType:string, OuterMessage:string, OuterAssembly:string, OuterMethod:string, InnermostType:string, InnermostMessage:string, InnermostAssembly:string, InnermostMethod:string, SeverityLevel:int, Details:dynamic, Message:string, Measurements:dynamic`,
  AppEvents: `${COMMON_WORKSPACE}, Name:string, Measurements:dynamic`,
  AppMetrics: `${COMMON_WORKSPACE}, Name:string, Sum:real, Min:real, Max:real, ItemCount:int`,
};

let globals: any;
function schemaGlobals(): any {
  if (!globals) {
    const K = kusto();
    const tables = Object.entries(APP_INSIGHTS_SCHEMA).map(
      ([name, columns]) => new K.Symbols.TableSymbol.$ctor7(name, `(${columns})`, null),
    );
    globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.$ctor2('appinsights', null, tables));
  }
  return globals;
}

export interface KqlDiagnostic {
  severity: string;
  message: string;
  /** 0-based offset in the query. */
  start: number;
}

/** Errors (and warnings) the Kusto analyser finds in a query against APP_INSIGHTS_SCHEMA. */
export function kqlDiagnostics(query: string, { errorsOnly = true } = {}): KqlDiagnostic[] {
  const code = kusto().KustoCode.ParseAndAnalyze(query, schemaGlobals());
  const list = code.GetDiagnostics();
  const found: KqlDiagnostic[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    if (!errorsOnly || d.Severity === 'Error')
      found.push({ severity: String(d.Severity), message: String(d.Message), start: Number(d.Start) });
  }
  return found;
}

export interface BicepQuery {
  /** `file:line:column` of the Bicep property holding it (relative to the repository). */
  at: string;
  /** Where it sits: `<resource> query` (log alert) or `<resource> serializedData items[...]` (workbook). */
  kind: string;
  query: string;
}

/** Every `query` string in a workbook's serialized JSON (KQL items and parameters on Logs, not Resource Graph). */
function workbookQueries(value: unknown, path = 'items'): { path: string; query: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => workbookQueries(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  const found: { path: string; query: string }[] = [];
  const o = value as Record<string, unknown>;
  // queryType 0 (or absent) = Logs (KQL); 1 = Azure Resource Graph, others are not KQL on App Insights.
  if (typeof o.query === 'string' && (o.queryType === undefined || o.queryType === 0)) found.push({ path, query: o.query });
  for (const [k, v] of Object.entries(o)) if (v && typeof v === 'object') found.push(...workbookQueries(v, `${path}.${k}`));
  return found;
}

/** Log alert rules hold KQL in `criteria.allOf[].query`; workbooks in `serializedData`. */
const QUERY_PROPERTIES: readonly [string, string][] = [
  ['Microsoft.Insights/scheduledQueryRules@', 'query'],
  ['Microsoft.Insights/workbooks@', 'serializedData'],
];

/** Each deployed instance of a resource body: `[for x in ...]` per item, `if (...)` checked whatever the condition. */
function instances(
  scope: BicepScope,
  node: Node,
  locals: ReadonlyMap<string, BicepValue>,
  at: string,
): { body: Node; locals: ReadonlyMap<string, BicepValue> }[] {
  if (node.type === 'object') return [{ body: node, locals }];
  const parts = node.namedChildren.filter((c): c is Node => c !== null);
  const body = parts[parts.length - 1];
  if (node.type === 'if_statement') return instances(scope, body, locals, at);
  if (node.type === 'for_statement') {
    const items = scope.evaluate(parts[parts.length - 2], locals);
    if (!Array.isArray(items)) throw new Error(`${at}: a loop over a value not known before deployment cannot be checked`);
    return items.flatMap((item) => instances(scope, body, new Map([...locals, [parts[0].text, item]]), at));
  }
  throw new Error(`${at}: unsupported resource body ${node.type}`);
}

/** main.bicep with `params`, each module with what main.bicep passes it, and any other file with its defaults. */
async function scopes(files: string[], sources: Record<string, string>, params: Record<string, BicepValue>): Promise<BicepScope[]> {
  const read = async (path: string) => {
    const file = await parseBicepFile(path, sources[path]);
    if (file.errors.length) throw new Error(`Bicep syntax errors:\n${file.errors.join('\n')}`);
    return file;
  };
  const result: BicepScope[] = [];
  const seen = new Set<string>();
  if (files.includes(MAIN_BICEP)) {
    const main = new BicepScope(await read(MAIN_BICEP), { location: DEPLOY_LOCATION, ...params });
    result.push(main);
    seen.add(MAIN_BICEP);
    for (const [name, mod] of main.file.modules) {
      if (seen.has(mod.path)) continue;
      result.push(new BicepScope(await read(mod.path), main.moduleParams(name)));
      seen.add(mod.path);
    }
  }
  for (const path of files.filter((f) => !seen.has(f))) {
    const file = await read(path);
    // Parameters without a default are unknown: a query interpolating one cannot be checked.
    result.push(
      new BicepScope(file, Object.fromEntries([...file.params].filter(([, p]) => !p.default).map(([n]) => [n, UNKNOWN as BicepValue]))),
    );
  }
  return result;
}

/**
 * Every KQL query in the .bicep files under infra/ (or `files`): the `query` of each log alert rule
 * and the queries inside each workbook's `serializedData` (a JSON string: literal, `string({...})`
 * or `loadTextContent(...)`), evaluated as deployed (main.bicep's defaults, module parameters).
 */
export async function bicepQueries(
  files = filesUnder(INFRA_DIR, '.bicep'),
  sources: Record<string, string> = {},
  params: Record<string, BicepValue> = { environmentName: 'test' },
): Promise<BicepQuery[]> {
  const found: BicepQuery[] = [];
  for (const scope of await scopes(files, sources, params)) {
    const { file } = scope;
    for (const [type, key] of QUERY_PROPERTIES) {
      for (const r of file.resourcesOfType(type)) {
        for (const instance of instances(scope, r.body, new Map(), relative(REPO_ROOT, where(r.body, file.path)))) {
          for (const [, node] of propertiesNamed(instance.body, [key])) {
            const at = relative(REPO_ROOT, where(node, file.path));
            const value = scope.evaluate(node, instance.locals);
            if (typeof value !== 'string' || !isKnown(value)) {
              throw new Error(
                `${at}: ${key} is not a string known before deployment (${typeof value === 'string' ? value.replaceAll(UNKNOWN_TEXT, '<unknown>') : String(value)})`,
              );
            }
            if (key === 'query') found.push({ at, kind: `${r.name} query`, query: value });
            else
              for (const q of workbookQueries((JSON.parse(value) as { items?: unknown }).items))
                found.push({ at, kind: `${r.name} serializedData ${q.path}`, query: q.query });
          }
        }
      }
    }
  }
  return found;
}
