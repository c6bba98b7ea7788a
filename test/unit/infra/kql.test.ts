/**
 * Every KQL query in the Bicep (log alert rules, workbook items: discovered, not listed) parses and
 * type-checks with the Kusto language service against the Application Insights schema, so a typo
 * in a table, column or operator fails `npm test` instead of the deployment (the alert rules set
 * skipQueryValidation, since on a first deployment the workspace may not have the tables yet).
 */
import { join } from 'node:path';
import { METRICS } from '../../../shared/telemetry/names';
import { parseBicepFile, propertiesNamed } from './bicepModel';
import { filesUnder, INFRA_DIR } from './deploymentChecks';
import { bicepQueries, kqlDiagnostics } from './kusto';

describe('KQL in infra/', () => {
  test('there are queries to check (the log alerts at least)', async () => {
    const queries = await bicepQueries();
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries.map((q) => q.query).join('\n')).toContain(`"${METRICS.poisonDepth.name}"`);
    expect(queries.filter((q) => q.kind.includes('serializedData')).length).toBeGreaterThanOrEqual(7); // the workbook's panels
  });

  test('every query parses and resolves against the Application Insights schema', async () => {
    const problems = (await bicepQueries()).flatMap((q) =>
      kqlDiagnostics(q.query).map(
        (d) => `${q.at} (${q.kind}): ${d.message} at ${d.start}: ${q.query.slice(Math.max(0, d.start - 20), d.start + 30)}`,
      ),
    );
    expect(problems).toEqual([]);
  });

  test("log alert rules skip Azure's own query validation (the tables may not exist yet on a first deployment)", async () => {
    let rules = 0;
    for (const path of filesUnder(INFRA_DIR, '.bicep')) {
      for (const r of (await parseBicepFile(path)).resourcesOfType('Microsoft.Insights/scheduledQueryRules@')) {
        rules++;
        expect({ rule: r.name, skip: propertiesNamed(r.body, ['skipQueryValidation']).map(([, v]) => v.text) }).toEqual({
          rule: r.name,
          skip: ['true'],
        });
      }
    }
    expect(rules).toBeGreaterThan(0);
  });

  test('the analyser reports unknown tables, columns and broken syntax', () => {
    expect(kqlDiagnostics('requests | where success == false | summarize failures = count() by functionName = operation_Name')).toEqual([]);
    expect(kqlDiagnostics('request | count').map((d) => d.message)).toEqual([
      expect.stringMatching(/'request' does not refer to any known table/),
    ]);
    expect(kqlDiagnostics('traces | where mesage startswith "x"').map((d) => d.message)).toEqual([
      expect.stringMatching(/'mesage' does not refer to any known column/),
    ]);
    expect(kqlDiagnostics('traces | wher message == "x"').length).toBeGreaterThan(0);
  });

  test('queries are found wherever the Bicep writes them: alerts in loops, workbooks as string(...) or JSON text', async () => {
    const probe = join(INFRA_DIR, 'modules', 'probe.bicep');
    const source = [
      "param rules array = [ { name: 'a', query: 'requests | count' }, { name: 'b', query: 'AppTraces | take 1' } ]",
      "resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {",
      '  name: rule.name',
      '  properties: { criteria: { allOf: [ { query: rule.query } ] } }',
      '}]',
      "var workbook = { version: 'Notebook/1.0', items: [ { type: 3, content: { query: 'customMetrics | summarize avg(value) by name', queryType: 0 } }, { type: 9, content: { parameters: [ { query: 'resources | project id', queryType: 1 } ] } } ] }",
      "resource wb 'Microsoft.Insights/workbooks@2023-06-01' = {",
      "  name: 'w'",
      '  properties: { serializedData: string(workbook) }',
      '}',
      "resource wb2 'Microsoft.Insights/workbooks@2023-06-01' = {",
      "  name: 'w2'",
      '  properties: { serializedData: \'{"items":[{"type":3,"content":{"query":"dependencies | where sucess == false"}}]}\' }',
      '}',
    ].join('\n');
    const queries = await bicepQueries([probe], { [probe]: source });
    expect(queries.map((q) => [q.kind, q.query])).toEqual([
      ['alerts query', 'requests | count'],
      ['alerts query', 'AppTraces | take 1'],
      ['wb serializedData items[0].content', 'customMetrics | summarize avg(value) by name'],
      ['wb2 serializedData items[0].content', 'dependencies | where sucess == false'],
    ]);
    expect(queries.map((q) => kqlDiagnostics(q.query).length)).toEqual([0, 0, 0, 1]);
  });
});
