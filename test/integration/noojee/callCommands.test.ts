/** Call commands from queue messages executed against the Noojee sandbox. */
import { InvocationContext } from '@azure/functions';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../../local/sandbox/noojee/noojeeSandbox';
import { loadConfig } from '../../../shared/config/settings';
import { cloudEvent } from '../../../shared/envelope';
import { ConfigError } from '../../../shared/errors';
import { NoojeeApiError } from '../../../shared/noojee/client';
import { handleCallCommand, InvalidCallCommandError } from '../../../shared/noojee/commands';

let sandbox: RunningNoojeeSandbox;
const savedStorage = process.env.AzureWebJobsStorage;

beforeAll(async () => {
  sandbox = await startNoojeeSandbox();
  // Only a claim-check pointer would touch storage; none of these messages is one.
  process.env.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
});
afterAll(async () => {
  if (savedStorage === undefined) delete process.env.AzureWebJobsStorage;
  else process.env.AzureWebJobsStorage = savedStorage;
  await sandbox.stop();
});

function config(extra: Record<string, string> = {}) {
  return loadConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    NOOJEE_BASE_URL: sandbox.url,
    NOOJEE_API_KEY: sandbox.apiKey,
    NOOJEE_HTTP_TIMEOUT_MARGIN_MS: '2000',
    ...extra,
  });
}
function context(lines: string[] = []) {
  return new InvocationContext({ functionName: 'callCommands', logHandler: (level, ...args) => lines.push(`${level}: ${args.join(' ')}`) });
}

it('an answer command reaches Noojee with uniqueId, exten and the configured answerString', async () => {
  const legs = sandbox.scriptCall({ from: '400', to: '410', answerBy: 'command', talkMs: 60_000 });
  const lines: string[] = [];
  const response = await handleCallCommand(
    { action: 'answer', uniqueId: legs.callee, exten: 'SIP/410' },
    context(lines),
    config({ NOOJEE_ANSWER_STRING: 'Call-info:answer-after=0' }),
  );
  expect(response).toMatchObject({ Code: 0, Message: 'Call answered' });
  expect(sandbox.commands.at(-1)).toMatchObject({
    method: 'answer',
    params: { uniqueId: legs.callee, exten: 'SIP/410', answerString: 'Call-info:answer-after=0' },
  });
  expect(lines).toEqual([`information: callCommands: answer ${legs.callee} on SIP/410: Code 0 Call answered`]);
  // The call is connected now: hang it up through a CloudEvent-wrapped command given as JSON text.
  const hangup = cloudEvent({
    id: 'c1',
    source: '/crm',
    type: 'com.example.hangup',
    data: { action: 'hangup', extenOrUniqueId: legs.callee },
  });
  await expect(handleCallCommand(JSON.stringify(hangup), context(), config())).resolves.toMatchObject({
    Code: 0,
    Message: 'Channel Hungup',
  });
});

it('a dial command returns the SessionID', async () => {
  const lines: string[] = [];
  await handleCallCommand({ action: 'dial', number: '0412345678', extenOrUniqueId: 'SIP/400', monitored: true }, context(lines), config());
  expect(sandbox.commands.at(-1)).toMatchObject({
    method: 'dial',
    params: { number: '0412345678', extenOrUniqueId: 'SIP/400', monitored: 'yes' },
  });
  expect(lines[0]).toMatch(/^information: callCommands: dial 0412345678 from SIP\/400: Code 0 Dialing, SessionID [0-9a-f-]{36}$/);
});

it('an invalid command is rejected before anything is sent', async () => {
  const before = sandbox.commands.length;
  await expect(handleCallCommand({ action: 'answer', exten: '410' }, context(), config())).rejects.toThrow(InvalidCallCommandError);
  await expect(handleCallCommand('garbage', context(), config())).rejects.toThrow('invalid call command');
  expect(sandbox.commands).toHaveLength(before);
});

it('an upstream refusal throws (the queue trigger retries, then poisons)', async () => {
  await expect(handleCallCommand({ action: 'hangup', extenOrUniqueId: 'no.such.call' }, context(), config())).rejects.toThrow(
    NoojeeApiError,
  );
  sandbox.setFaults({ fail: 1, status: 500 });
  await expect(handleCallCommand({ action: 'hangup', extenOrUniqueId: '400' }, context(), config())).rejects.toThrow(
    'Noojee hangup answered HTTP 500',
  );
});

it('fails with a clear error when Noojee is not configured', async () => {
  await expect(
    handleCallCommand(
      { action: 'hangup', extenOrUniqueId: '400' },
      context(),
      loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }),
    ),
  ).rejects.toThrow(ConfigError);
});
