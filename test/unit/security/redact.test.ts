/** Issue 17.1: the shared redaction (credential-shaped fields and known values), as every sink uses it. */
import { Redactor, redactText, redactUrl } from '../../../shared/redact';
import { secretRedactor } from '../../../shared/config/settings';
import { HostLog } from '../../../local/host/invocation';

test('credential-shaped fields are redacted without knowing the values', () => {
  const cases: [string, string][] = [
    [
      'grant_type=client_credentials&client_id=a&client_secret=s3cr3t-value&scope=x',
      'grant_type=client_credentials&client_id=a&client_secret=***&scope=x',
    ],
    ['{"apiKey":"k-123456","exten":"400"}', '{"apiKey":"***","exten":"400"}'],
    ['body "{\\"password\\":\\"pw-123456\\"}"', 'body "{\\"password\\":\\"***\\"}"'],
    ['Authorization: Bearer eyJhbGciOi.abc.def', 'Authorization: Bearer ***'],
    ['ocp-apim-subscription-key: 0123456789abcdef', 'ocp-apim-subscription-key: ***'],
    ['sent with bearer abcdefghijklmnop', 'sent with bearer ***'],
    [
      'https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=AbC%2Fdef%3D&se=2026',
      'https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=***&se=2026',
    ],
    [
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5+/==;EndpointSuffix=core.windows.net',
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;EndpointSuffix=core.windows.net',
    ],
    ['https://x.test/api/engage/webhook?code=fnkey-1', 'https://x.test/api/engage/webhook?code=***'],
  ];
  for (const [input, expected] of cases) expect(redactText(input)).toBe(expected);
  // Ordinary text is left alone.
  expect(redactText('Noojee subscribe failed with Code -1: no such extension (token_type bearer)')).toBe(
    'Noojee subscribe failed with Code -1: no such extension (token_type bearer)',
  );
});

test('known values are redacted in plain, URL- and form-encoded forms; objects by field name', () => {
  const r = new Redactor(['p@ss word/1']);
  expect(r.text('a p@ss word/1 b p%40ss%20word%2F1 c p%40ss+word%2F1')).toBe('a *** b *** c ***');
  expect(r.value({ access_token: 'tok', nested: [{ note: 'p@ss word/1' }], count: 3 })).toEqual({
    access_token: '***',
    nested: [{ note: '***' }],
    count: 3,
  });
});

test('secretRedactor knows the configured secrets; redactUrl hides the function key', () => {
  expect(secretRedactor({ NOOJEE_API_KEY: 'nj-abcdef' }).text('echo nj-abcdef')).toBe('echo ***');
  expect(redactUrl('https://x.test/api/engage/webhook?code=abc123&x=1')).toBe('https://x.test/api/engage/webhook?code=***&x=1');
});

test("the local host log writes what the app logged, as Azure's host does (redaction is the app's job, issue 21.3)", () => {
  const lines: string[] = [];
  const log = new HostLog((l) => lines.push(l));
  log.write('warning', 'f', 'already *** by the app');
  expect(lines[0]).toMatch(/warning f: already \*\*\* by the app$/);
});
