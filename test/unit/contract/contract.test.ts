/**
 * The consumer contract: docs/asyncapi.yaml and docs/schemas/ are what `npm run contract` generates
 * from the code (drift fails here), the AsyncAPI parser accepts the document without errors or
 * warnings, every queue setting is described, and messages built by the code's own builders match
 * the schemas (while off-contract ones do not).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { buildContract, repoRoot } from '../../../contract/model';
import { ASYNCAPI_FILE, renderContract, SCHEMA_DIR } from '../../../contract/render';
import { settingsSchema } from '../../../shared/config/settings';
import { cloudEvent } from '../../../shared/envelope';
import { engageEventType } from '../../../shared/engage/events';
import { parseCallCommand } from '../../../shared/noojee/commands';
import { callEventEnvelopes, parseSubscribeResponse } from '../../../shared/noojee/subscribe';
import { messagesFor, type JournalEntry } from '../../../shared/notificationApiV2/journal';
import { expectMatchesContract } from '../../helpers/contract';

const ROOT = repoRoot();
const contract = buildContract(ROOT);

describe('generated files', () => {
  const files = renderContract(contract);

  test.each([...files.keys()])('%s is up to date (npm run contract regenerates it)', (path) => {
    expect(readFileSync(join(ROOT, path), 'utf8')).toBe(files.get(path));
  });

  test(`${SCHEMA_DIR} holds one schema per message and nothing else`, () => {
    expect(
      readdirSync(join(ROOT, SCHEMA_DIR))
        .map((f) => `${SCHEMA_DIR}/${f}`)
        .sort(),
    ).toEqual([...files.keys()].filter((p) => p !== ASYNCAPI_FILE).sort());
  });
});

test('the AsyncAPI parser accepts the document: no errors, no warnings', async () => {
  const { document, diagnostics } = await new Parser().parse(readFileSync(join(ROOT, ASYNCAPI_FILE), 'utf8'));
  // Severity 0 error, 1 warning. The one info diagnostic allowed: 3.0.0 (what the issue asks) is not the newest 3.x.
  expect(
    diagnostics
      .filter((d) => d.severity <= 1 || d.code !== 'asyncapi-latest-version')
      .map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
  ).toEqual([]);
  expect(document).toBeDefined();
  expect(document!.channels().length).toBe(contract.channels.length);
  expect(document!.messages().length).toBe(contract.messages.length);
  expect(
    document!
      .operations()
      .filterByReceive()
      .map((o) => o.channels().all()[0].address()),
  ).toEqual(['noojee-call-commands', '{queue}-poison']);
});

test('every queue setting names a channel of the contract (a new queue needs a channel in contract/model.ts)', () => {
  const addresses = new Set(contract.channels.map((c) => c.address));
  const described = new Set(contract.channels.map((c) => c.setting));
  const defaults = settingsSchema.parse({});
  const queueSettings = Object.keys(settingsSchema.shape).filter((k) => k.endsWith('_QUEUE')) as (keyof typeof defaults)[];
  expect(queueSettings.length).toBeGreaterThan(4);
  // Either the setting is a channel's own, or (a consumer's input) its default is a channel's address.
  expect(queueSettings.filter((k) => !described.has(k) && !addresses.has(String(defaults[k])))).toEqual([]);
  // The channels follow the defaults of the code (routes, unrouted, v2, Noojee).
  for (const route of defaults.ENGAGE_ROUTES) expect(addresses).toContain(route.queue);
  for (const k of ['ENGAGE_UNROUTED_QUEUE', 'NOTIFICATIONS_QUEUE', 'NOOJEE_EVENTS_QUEUE', 'NOOJEE_COMMANDS_QUEUE'] as const)
    expect(addresses).toContain(defaults[k]);
});

describe('messages built by the code match their schemas', () => {
  test('Notification API v2 events (CloudEvent and raw) from journal entries', () => {
    const entry: JournalEntry = {
      version: 1,
      subscriptionId: 's1',
      source: 'https://tenant.example.com',
      readAt: '2026-11-23T12:00:00.000Z',
      results: [
        { version: 'V2', event_type_id: '301', timestamp: '2022-05-20T06:36:35.078584Z', user: { id: 'u1' } },
        { event_type_id: 102 },
        'not even an object',
      ],
    };
    for (const format of ['cloudevents', 'raw'] as const) {
      const names = messagesFor('notifications/20261123T120000000Z-abcdef/000001', entry, { queue: 'q', format }).map((m) =>
        expectMatchesContract('notifications-v2', m.body),
      );
      expect(new Set(names)).toEqual(new Set([format === 'raw' ? 'notification-raw' : 'notification-event']));
    }
  });

  test('Noojee call events from a subscribe answer', () => {
    const response = parseSubscribeResponse({
      Data: { '400': [{ CallData: { uniqueCallId: 1412749517.489, status: 'No Answer', callerId: 410 }, CallID: 1, Code: 0 }] },
      seq: 10,
      Code: 0,
    });
    const [event] = callEventEnvelopes(response, 10, '/noojee/call-management');
    expect(expectMatchesContract('noojee-call-events', event)).toBe('noojee-call-event');
    expect(expectMatchesContract('noojee-call-events-poison', event)).toBe('noojee-call-event');
    expect(() => expectMatchesContract('noojee-call-events', { ...event, type: 'com.eptura.engage.desk' })).toThrow(/does not match/);
  });

  test('Engage envelopes: decoded, undecoded (ENGAGE_DECODER=none) and raw; off-schema payloads and undeclared attributes are rejected', () => {
    const desk = [{ Date: '2026-11-24T00:00:00', BookingID: 9, ResourceItemID: 101, Action: 1, UntilFurtherNotice: false }];
    const event = cloudEvent({ id: 'n-1:0', source: '/eptura/engage', type: engageEventType('DESK'), subject: '101', data: desk });
    expect(expectMatchesContract('engage-desk', event)).toBe('engage-desk-event');
    expect(expectMatchesContract('engage-desk', { ...event, data: 'opaque-encrypted-text' })).toBe('engage-desk-event');
    expect(expectMatchesContract('engage-desk', desk)).toBe('engage-desk-raw');
    expect(expectMatchesContract('engage-unrouted', { ...event, type: engageEventType('SOMETHINGNEW') })).toBe('engage-unrouted-event');
    expect(() => expectMatchesContract('engage-desk', { ...event, data: [{ BookingID: 9 }] })).toThrow(/does not match/);
    expect(() => expectMatchesContract('engage-desk', { ...event, extension: 'x' })).toThrow(/additional properties \(extension\)/);
    const { id: _id, ...withoutId } = event;
    expect(() => expectMatchesContract('engage-desk', withoutId)).toThrow(/must have required property 'id'/);
    expect(() => expectMatchesContract('no-such-queue', event)).toThrow(/no channel/);
  });

  test('the contract accepts exactly the call commands callCommands accepts', () => {
    const bodies: unknown[] = [
      { action: 'answer', uniqueId: '1403148776.566', exten: 'SIP/101' },
      { action: 'hangup', extenOrUniqueId: '1403148776.566' },
      { action: 'dial', number: '0412345678', extenOrUniqueId: 'SIP/100', monitored: 'yes', autoAnswer: true },
      cloudEvent({ id: 'c-1', source: '/me', type: 'com.example.command', data: { action: 'hangup', extenOrUniqueId: 'SIP/100' } }),
      { action: 'transfer', to: '420' },
      { action: 'dial', number: '0412345678' },
      { action: 'hangup', extenOrUniqueId: '   ' },
      { action: 'dial', number: '0412345678', extenOrUniqueId: 'SIP/100', monitored: 'maybe' },
      'hangup everything',
    ];
    for (const body of bodies) {
      let accepted = true;
      try {
        parseCallCommand(body);
      } catch {
        accepted = false;
      }
      let matches = true;
      try {
        expectMatchesContract('noojee-call-commands', body);
      } catch {
        matches = false;
      }
      expect({ body, matches }).toEqual({ body, matches: accepted });
    }
  });
});
