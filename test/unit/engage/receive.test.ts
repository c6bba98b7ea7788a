/**
 * receive() without a host: bytes and headers in, a verdict and the messages out (shared/engage/receive.ts).
 */
import { loadConfig } from '../../../shared/config/settings';
import { encodeBase64Json, getDecoder } from '../../../shared/engage/decoder';
import { receive, type ReceiveSettings } from '../../../shared/engage/receive';
import { compileRoutes } from '../../../shared/engage/routes';
import { signBody } from '../../../shared/engage/signature';

function settings(env: Record<string, string> = {}): ReceiveSettings {
  const config = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', ENGAGE_DECODER: 'base64-json', ...env });
  const limits = { maxDepth: config.ENGAGE_WEBHOOK_MAX_DEPTH, maxElements: config.ENGAGE_WEBHOOK_MAX_ELEMENTS };
  return {
    config,
    routes: compileRoutes(config.ENGAGE_ROUTES, config.ENGAGE_UNROUTED_QUEUE),
    limits,
    decoder: getDecoder(config.ENGAGE_DECODER, limits),
  };
}
const desk = { Date: '2026-11-24T00:00:00', BookingID: 1, ResourceItemID: 101, Action: 1, UntilFurtherNotice: false };
const body = (notifications: unknown[]) => Buffer.from(JSON.stringify({ Id: 'env-1', Attempt: 1, Notifications: notifications }));
const json = new Headers({ 'content-type': 'application/json' });
const TIME = '2026-12-05T00:00:00.000Z';

test('a valid envelope → 200 with one serialised message per notification, dead letters counted', () => {
  const r = receive(
    body([
      { Action: 'DESK', DynamicParamA: encodeBase64Json([desk]) },
      { Action: 'DESK', DynamicParamA: '%%%' },
    ]),
    json,
    settings(),
    TIME,
  );
  expect(r).toMatchObject({ status: 200, envelope: { Id: 'env-1', Attempt: 1 }, notifications: 2, deadLetters: 1 });
  expect(r.messages.map((m) => [m.queue, m.key])).toEqual([
    ['engage-desk', 'env-1:0'],
    ['engage-deadletter', 'env-1:1'],
  ]);
  expect(JSON.parse(r.messages[0].text!)).toMatchObject({ id: 'env-1:0', time: TIME, data: [desk] });
  expect(r.warnings.join('\n')).toMatch(/is not base64.*kept in engage-deadletter/);
});

test('refusals carry a status and a reason and no messages: 415, 413, 400, 401', () => {
  const ok = body([{ Action: 'DESK', DynamicParamA: encodeBase64Json([desk]) }]);
  expect(receive(ok, new Headers({ 'content-type': 'text/plain' }), settings())).toMatchObject({ status: 415, messages: [] });
  expect(receive(ok, json, settings({ ENGAGE_WEBHOOK_MAX_BYTES: '1024' })).status).toBe(200);
  expect(receive(Buffer.alloc(2048, 32), json, settings({ ENGAGE_WEBHOOK_MAX_BYTES: '1024' }))).toMatchObject({
    status: 413,
    reason: 'body larger than 1024 bytes',
  });
  expect(receive(Buffer.from('{"Id":'), json, settings())).toMatchObject({ status: 400, messages: [] });
  expect(receive(Buffer.from(''), json, settings())).toMatchObject({ status: 400, reason: 'empty body' });
  const enforce = settings({ ENGAGE_SIGNATURE_MODE: 'enforce', ENGAGE_WEBHOOK_SECRET: 'k-webhook-secret' });
  expect(receive(ok, json, enforce)).toMatchObject({ status: 401, reason: 'ms-signature missing', messages: [] });
  expect(receive(ok, new Headers({ 'ms-signature': signBody('k-webhook-secret', ok) }), enforce).status).toBe(200);
});
