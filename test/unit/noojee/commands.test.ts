import { cloudEvent } from '../../../shared/envelope';
import { executeCallCommand, InvalidCallCommandError, parseCallCommand } from '../../../shared/noojee/commands';
import type { AnswerRequest, CommandResponse, DialRequest } from '../../../shared/noojee/client';

describe('parseCallCommand', () => {
  it('accepts answer, hangup and dial commands', () => {
    expect(parseCallCommand({ action: 'answer', uniqueId: '1403148776.566', exten: 'SIP/101' })).toEqual({
      action: 'answer',
      uniqueId: '1403148776.566',
      exten: 'SIP/101',
    });
    expect(parseCallCommand({ action: 'hangup', extenOrUniqueId: '1403148776.566' })).toEqual({
      action: 'hangup',
      extenOrUniqueId: '1403148776.566',
    });
    expect(
      parseCallCommand({ action: 'dial', number: '0412345678', extenOrUniqueId: 'SIP/100', monitored: 'yes', autoAnswer: true }),
    ).toEqual({
      action: 'dial',
      number: '0412345678',
      extenOrUniqueId: 'SIP/100',
      monitored: true,
      autoAnswer: true,
    });
  });

  it('unwraps a CloudEvent whose data is the command', () => {
    const event = cloudEvent({ id: '1', source: 's', type: 't', data: { action: 'hangup', extenOrUniqueId: '400' } });
    expect(parseCallCommand(event)).toEqual({ action: 'hangup', extenOrUniqueId: '400' });
  });

  it.each([
    [{ action: 'transfer', to: '400' }, /action must be one of answer, hangup, dial/],
    [{ uniqueId: '1' }, /action must be one of answer, hangup, dial/],
    [{ action: 'answer', uniqueId: '1' }, /exten/],
    [{ action: 'answer', uniqueId: '  ', exten: '101' }, /uniqueId: must be a non-empty string/],
    [{ action: 'dial', number: '1' }, /extenOrUniqueId/],
    ['not json', /invalid call command/],
  ])('rejects %p with a reason', (body, reason) => {
    expect(() => parseCallCommand(body)).toThrow(InvalidCallCommandError);
    expect(() => parseCallCommand(body)).toThrow(reason);
  });
});

describe('executeCallCommand', () => {
  function recordingClient() {
    const calls: Array<[string, unknown]> = [];
    const ok: CommandResponse = { Code: 0, Message: 'ok' };
    return {
      calls,
      client: {
        answer: async (r: AnswerRequest) => (calls.push(['answer', r]), ok),
        hangup: async (id: string) => (calls.push(['hangup', id]), ok),
        dial: async (r: DialRequest) => (calls.push(['dial', r]), ok),
      },
    };
  }

  it('maps each action to its method, with the default answerString only when the command has none', async () => {
    const { calls, client } = recordingClient();
    await executeCallCommand(client, { action: 'answer', uniqueId: 'u1', exten: 'SIP/101' }, 'Call-info:answer-after=0');
    await executeCallCommand(
      client,
      { action: 'answer', uniqueId: 'u2', exten: 'SIP/101', answerString: 'Alert-Info: Ring Answer' },
      'Call-info:answer-after=0',
    );
    await executeCallCommand(client, { action: 'hangup', extenOrUniqueId: 'u1' });
    await executeCallCommand(client, { action: 'dial', number: '0412', extenOrUniqueId: 'SIP/100', monitored: true });
    expect(calls).toEqual([
      ['answer', { uniqueId: 'u1', exten: 'SIP/101', answerString: 'Call-info:answer-after=0' }],
      ['answer', { uniqueId: 'u2', exten: 'SIP/101', answerString: 'Alert-Info: Ring Answer' }],
      ['hangup', 'u1'],
      ['dial', { number: '0412', extenOrUniqueId: 'SIP/100', monitored: true }],
    ]);
  });
});
