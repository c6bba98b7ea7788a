/**
 * README "Recover from a consumer bug", run as written: a desk event arrives through the webhook, a
 * (buggy) consumer deletes it, then the section's CLI lines find it in the archive, show it in a dry
 * run (nothing sent) and replay it to engage-desk with its original id and text.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { resetConfig } from '../../shared/config/settings';
import { encodeBase64Json } from '../../shared/engage/decoder';
import { resetWebhook } from '../../shared/engage/webhook';
import { REPO_ROOT } from '../helpers/app';
import { drainQueue, queueDepth } from '../helpers/queues';
import { callWebhook } from '../integration/engage/serveWebhook';
import { codeBlocks, runnableCliLine } from './markdown';

let azurite: RunningAzurite;
const savedEnv = { ...process.env };

beforeAll(async () => {
  azurite = await startAzurite();
}, 60_000);
afterAll(async () => {
  process.env = savedEnv;
  resetConfig();
  resetWebhook();
  await azurite?.stop();
});

function run(command: string): Promise<{ code: number; out: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, AzureWebJobsStorage: azurite.connectionString };
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: REPO_ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** The CLI lines of the first `cli` block under the README heading "Recover from a consumer bug". */
function walkthroughLines(): string[] {
  const lines = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n');
  const heading = lines.findIndex((l) => l === '### Recover from a consumer bug') + 1;
  expect(heading).toBeGreaterThan(0);
  const block = codeBlocks(REPO_ROOT, 'README.md').find((b) => b.line > heading && b.marker === 'cli')!;
  return block.code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

test('the walk-through finds the lost desk event, dry-runs, and replays it with its id', async () => {
  process.env = { ...savedEnv, AzureWebJobsStorage: azurite.connectionString, ENGAGE_DECODER: 'base64-json' };
  resetConfig();
  resetWebhook();
  const desk = [{ Date: '2026-11-23T00:00:00', BookingID: 7, ResourceItemID: 42, Action: 1, UntilFurtherNotice: false }];
  const body = JSON.stringify({
    Id: 'walkthrough-1',
    Attempt: 1,
    Notifications: [{ Action: 'DESK', DynamicParamA: encodeBase64Json(desk) }],
  });
  expect((await callWebhook({ body })).status).toBe(200);
  const lost = await drainQueue(azurite.connectionString, 'engage-desk'); // the buggy consumer took it
  expect(lost.map((m) => (m.body as { id: string }).id)).toEqual(['walkthrough-1:0']);

  const [find, dryRun, replay, ...rest] = walkthroughLines().map((l) => runnableCliLine(l, {}));
  expect(rest).toEqual([]);
  expect(find).toMatch(/^npm run cli -- archive find /);
  expect(dryRun).toMatch(/^npm run cli -- archive replay .*--dry-run$/);
  expect(replay).toMatch(/^npm run cli -- archive replay /);

  const found = await run(find);
  expect(found.code).toBe(0);
  expect(found.out).toMatch(/com\.eptura\.engage\.desk {2}42 {2}walkthrough-1:0 {2}→ engage-desk/);
  expect(found.out).toMatch(/^1 record\(s\) in 1 blob\(s\) of engage-bridge-archive/m);

  const dry = await run(dryRun);
  expect(dry).toEqual({ code: 0, out: expect.stringMatching(/^dry run: would replay 1 message\(s\) to engage-desk /m) });
  expect(await queueDepth(azurite.connectionString, 'engage-desk')).toBe(0);

  const replayed = await run(replay);
  expect(replayed).toEqual({
    code: 0,
    out: expect.stringMatching(/^replayed 1 message\(s\) to engage-desk .*com\.eptura\.engage\.desk: 1/m),
  });
  const again = await drainQueue(azurite.connectionString, 'engage-desk');
  expect(again.map((m) => m.text)).toEqual(lost.map((m) => m.text));
}, 180_000);
