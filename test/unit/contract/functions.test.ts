/**
 * Contract of the built app with the Functions host: the metadata `@azure/functions` registers
 * through the worker's `@azure/functions-core` when `package.json` `main` is loaded (here through
 * the local host's stand-in, exactly what the host would index on Azure). One row per function;
 * `%NAME%` values are resolved by the host from app settings, which local.settings.sample.json and
 * infra/main.bicep must both set (else the host fails indexing that function).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadApp } from '../../../local/host/app';
import { worker } from '../../../local/host/core/worker';
import { resolveSettingRefs } from '../../../local/host/hostConfig';
import { nextOccurrence } from '../../../local/host/timer';
import { settingsSchema } from '../../../shared/config/settings';
import { appDir, indexBuiltApp, REPO_ROOT, sampleTriggerSettings } from '../../helpers/app';
import { effectiveEnvironment, loadDeployment } from '../infra/deploymentChecks';

const STORAGE = 'AzureWebJobsStorage';

/** What the host indexes, per function: trigger binding (direction `in`) and its properties. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  // name                           trigger type     properties (as registered, before %SETTING% resolution)
  health: { type: 'httpTrigger', route: 'health', methods: ['GET'], authLevel: 'anonymous' },
  engageWebhook: { type: 'httpTrigger', route: 'engage/webhook', methods: ['GET', 'POST'], authLevel: 'function' },
  occupancyApi: { type: 'httpTrigger', route: 'occupancy/{resourceId}', methods: ['GET'], authLevel: 'function' },
  notificationsDrain: { type: 'timerTrigger', schedule: '%NOTIFICATIONS_SCHEDULE%', runOnStartup: false },
  callEvents: { type: 'timerTrigger', schedule: '%NOOJEE_SCHEDULE%' },
  poisonMonitor: { type: 'timerTrigger', schedule: '%POISON_MONITOR_SCHEDULE%' },
  callCommands: { type: 'queueTrigger', queueName: '%NOOJEE_COMMANDS_QUEUE%', connection: STORAGE },
  occupancyMeetingProgression: { type: 'queueTrigger', queueName: '%OCCUPANCY_MEETING_PROGRESSION_QUEUE%', connection: STORAGE },
  occupancyDeskProgression: { type: 'queueTrigger', queueName: '%OCCUPANCY_DESK_PROGRESSION_QUEUE%', connection: STORAGE },
  occupancyMeetingExternal: { type: 'queueTrigger', queueName: '%OCCUPANCY_MEETING_EXTERNAL_QUEUE%', connection: STORAGE },
  occupancyDesk: { type: 'queueTrigger', queueName: '%OCCUPANCY_DESK_QUEUE%', connection: STORAGE },
};

let entryPoint: string;
beforeAll(async () => {
  entryPoint = await loadApp(appDir('contract-'));
});

function registered() {
  return [...worker.functions.values()].filter((f) => f.entryPoint === entryPoint).map((f) => f.metadata);
}

test('the functions the worker registers are the table, with these trigger bindings', () => {
  const found = Object.fromEntries(
    registered().map((m) => {
      const bindings = Object.values(m.bindings);
      const trigger = bindings.find((b) => /Trigger$/.test(String(b.type)))!;
      const { name: _name, direction, properties: _p, ...props } = trigger;
      expect(direction).toBe('in');
      return [m.name, props];
    }),
  );
  expect(found).toEqual(EXPECTED);
});

test('HTTP functions return their response through the http output binding; nothing else has outputs', () => {
  for (const m of registered()) {
    const outputs = Object.entries(m.bindings).filter(([, b]) => b.direction === 'out');
    if (EXPECTED[m.name].type === 'httpTrigger')
      expect(outputs).toEqual([['$return', expect.objectContaining({ type: 'http', direction: 'out' })]]);
    else expect(outputs).toEqual([]);
  }
});

const sample = (JSON.parse(readFileSync(join(REPO_ROOT, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> })
  .Values;
const referenced = [
  ...new Set(
    Object.values(EXPECTED).flatMap((p) =>
      Object.values(p).flatMap((v) => (typeof v === 'string' ? [...v.matchAll(/%([^%]+)%/g)].map((m) => m[1]) : [])),
    ),
  ),
];

test('every %SETTING% a binding names is set by local.settings.sample.json and infra/main.bicep, to the documented default', async () => {
  const { appSettings } = await loadDeployment({ environmentName: 'test' });
  const defaults = settingsSchema.parse({ [STORAGE]: 'UseDevelopmentStorage=true' }) as Record<string, unknown>;
  expect(referenced.length).toBeGreaterThan(0);
  for (const name of referenced) {
    expect([name, sample[name]]).toEqual([name, defaults[name]]);
    expect([name, appSettings[name]]).toEqual([name, defaults[name]]);
  }
});

test.each([
  ['local.settings.sample.json', async () => ({ ...sampleTriggerSettings() })],
  ['infra/main.bicep', async () => effectiveEnvironment((await loadDeployment({ environmentName: 'test' })).appSettings)],
])('indexed with the settings of %s: no errors, valid NCRONTAB schedules, provisioned queues', async (_name, settings) => {
  const env = await settings();
  const { functions, errors } = await indexBuiltApp(env);
  expect(errors).toEqual([]);
  expect(functions.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  const { queues } = await loadDeployment({ environmentName: 'test' });
  for (const f of functions) {
    if (f.trigger.type === 'timerTrigger') expect(() => nextOccurrence(String(f.trigger.schedule), new Date())).not.toThrow();
    if (f.trigger.type === 'queueTrigger') {
      expect(queues).toContain(f.trigger.queueName);
      expect(queues).toContain(`${String(f.trigger.queueName)}-poison`);
    }
  }
});

test("an unset setting fails indexing of its function only, with the host's error", async () => {
  const { NOOJEE_COMMANDS_QUEUE: _dropped, ...rest } = sampleTriggerSettings();
  const { functions, errors } = await indexBuiltApp(rest);
  expect(errors).toEqual([
    {
      name: 'callCommands',
      error: "Error indexing method 'Functions.callCommands'. '%NOOJEE_COMMANDS_QUEUE%' does not resolve to a value.",
    },
  ]);
  expect(functions).toHaveLength(Object.keys(EXPECTED).length - 1);
  expect(() => resolveSettingRefs('%NOOJEE_COMMANDS_QUEUE%', rest)).toThrow(/does not resolve to a value/);
});
