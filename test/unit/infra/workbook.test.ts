/**
 * infra/modules/workbook.bicep: wired from main.bicep on the Application Insights component, one
 * panel per signal the issue lists, every Kusto query parses (@kusto/language-service-next), and
 * every metric it and the alerts name is one the app records (shared/telemetry/names.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS } from '../../../shared/telemetry/names';
import { BicepScope, parseBicepFile } from './bicepModel';
import { INFRA_DIR } from './deploymentChecks';

interface KustoDiagnostic {
  Message: string;
  Start: number;
}
interface KustoList<T> {
  Count: number;
  getItem(i: number): T;
}
interface KustoLanguage {
  KustoCode: { Parse(text: string): { GetSyntaxDiagnostics(): KustoList<KustoDiagnostic> } };
}

function kusto(): KustoLanguage {
  require('@kusto/language-service-next/bridge.min.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  return (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
}

/** Syntax errors of a Kusto query, as `message at offset` (empty when it parses). */
function kustoSyntaxErrors(query: string): string[] {
  const diagnostics = kusto().KustoCode.Parse(query).GetSyntaxDiagnostics();
  const out: string[] = [];
  for (let i = 0; i < (diagnostics.Count ?? 0); i++) {
    const d = diagnostics.getItem(i);
    out.push(`${d.Message} at ${d.Start}: ${query.slice(Math.max(0, d.Start - 20), d.Start + 20)}`);
  }
  return out;
}

const WORKBOOK = join(INFRA_DIR, 'modules', 'workbook.bicep');
const COMPONENT = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Insights/components/appi-test';

async function workbookQueries(): Promise<Record<string, string>> {
  const file = await parseBicepFile(WORKBOOK);
  expect(file.errors).toEqual([]);
  const queries = new BicepScope(file, { applicationInsightsId: COMPONENT, displayName: 'x', location: 'x' }).variable('queries');
  return queries as Record<string, string>;
}

const metricNames = (text: string) => [...text.matchAll(/"(engage_bridge\.[a-z_.]+)"/g)].map((m) => m[1]);
const known = new Set(Object.values(METRICS).map((m) => m.name));

describe('the workbook', () => {
  test('is a module of main.bicep on the Application Insights component', async () => {
    const main = await parseBicepFile(join(INFRA_DIR, 'main.bicep'));
    expect(main.modules.get('workbook')?.path).toBe(WORKBOOK);
    expect(main.modules.get('workbook')?.body.text).toContain('applicationInsightsId: monitoring.outputs.applicationInsightsId');
    expect(readFileSync(WORKBOOK, 'utf8')).toMatch(/resource \w+ 'Microsoft\.Insights\/workbooks@[\d-]+' = \{/);
  });

  test('has the panels of the issue, each query used by a panel', async () => {
    const queries = await workbookQueries();
    expect(Object.keys(queries).sort()).toEqual([
      'consumerOutcomes',
      'drainBacklog',
      'failures',
      'latency',
      'noojeeLag',
      'queueDepth',
      'webhookRate',
    ]);
    const source = readFileSync(WORKBOOK, 'utf8');
    for (const key of Object.keys(queries)) expect(source).toMatch(new RegExp(`queries\\.${key}\\b.*visualization`));
    expect(queries.failures).toContain('success == false');
    expect(queries.failures).toContain('operation_Id');
  });

  test('every query parses with the Kusto language service', async () => {
    const queries = await workbookQueries();
    for (const [name, query] of Object.entries(queries)) expect({ name, errors: kustoSyntaxErrors(query) }).toEqual({ name, errors: [] });
  });

  test('the parse check catches a broken query', () => {
    expect(kustoSyntaxErrors('customMetrics | where name == "x" | summarize max(valueMax) by tostring(customDimensions.queue')).not.toEqual(
      [],
    );
  });

  test('every metric the workbook and the alerts query is one the app records', async () => {
    const queries = await workbookQueries();
    const alerts = readFileSync(join(INFRA_DIR, 'modules', 'alerts.bicep'), 'utf8');
    const names = [...Object.values(queries).flatMap(metricNames), ...metricNames(alerts)];
    expect(names.length).toBeGreaterThanOrEqual(10);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });

  test('the alert queries parse too', () => {
    const alerts = readFileSync(join(INFRA_DIR, 'modules', 'alerts.bicep'), 'utf8');
    const queries = [...alerts.matchAll(/^\s*query: '(.*)'$/gm)].map((m) => m[1].replace(/\\'/g, "'"));
    expect(queries.length).toBe(4);
    for (const q of queries) expect(kustoSyntaxErrors(q)).toEqual([]);
  });
});
