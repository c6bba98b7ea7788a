/**
 * Issue 20.3: secrets echoed in a changed form are redacted: any letter case, base64 / base64url / hex
 * (also inside a longer encoded text, e.g. `Basic base64(user:secret)`), split by inserted whitespace
 * or (escaped) line breaks, and split across two chunks (a piece of SPLIT_FRAGMENT_MIN+ characters
 * ending one chunk / starting the next).
 */
import { Redactor, SPLIT_FRAGMENT_MIN } from '../../../shared/redact';

const SECRET = 'c0ffee11-dead-4bad-beef-1234567890ab';
const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
const b64url = (t: string) => Buffer.from(t, 'utf8').toString('base64url');
const hex = (t: string) => Buffer.from(t, 'utf8').toString('hex');

/** Every echo form of a secret, as a careless upstream or log would print it. */
export function echoForms(secret: string): Record<string, string> {
  return {
    upper: `Unknown key ${secret.toUpperCase()}`,
    mixedCase: `key ${[...secret].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('')}`,
    base64: `token ${b64(secret)}`,
    base64Embedded: `Authorization: Basic ${b64(`user:${secret}`)}`.replace('Authorization: Basic ', 'auth header was '),
    base64Offset2: `blob ${b64(`ab${secret}xyz`)}`,
    base64url: `state=${b64url(`x${secret}`)}`.replace('state=', 'state '),
    hex: `dump ${hex(secret)}`,
    hexUpper: `dump ${hex(secret).toUpperCase()}`,
    spaced: `split ${secret.slice(0, 10)} ${secret.slice(10, 20)}\n${secret.slice(20)}`,
    jsonEscapedBreak: `{"m":"${secret.slice(0, 12)}\\n${secret.slice(12)}"}`,
  };
}

/** True when any recognisable part of the secret is in `text` (independent of the redactor's code). */
export function leaksSecret(text: string, secret: string): string[] {
  const found: string[] = [];
  const flat = text.replace(/\s|\\[nrt]/g, '').toLowerCase();
  if (flat.includes(secret.toLowerCase())) found.push('plain');
  if (flat.includes(hex(secret).toLowerCase())) found.push('hex');
  // Base64 at each alignment: decode every base64-looking run at each offset and search the bytes.
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
    for (let k = 0; k < 4; k++) {
      const decoded = Buffer.from(run.slice(k).replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
      if (decoded.includes(secret.slice(3, -3))) found.push(`base64 ${run}`);
    }
  }
  return found;
}

test('each echo form is redacted; the text around it stays', () => {
  const r = new Redactor([SECRET]);
  for (const [form, text] of Object.entries(echoForms(SECRET))) {
    const out = r.text(text);
    expect({ form, leaks: leaksSecret(out, SECRET) }).toEqual({ form, leaks: [] });
    expect(out).toContain('***');
    expect(out.slice(0, 3)).toBe(text.slice(0, 3));
  }
  expect(leaksSecret(echoForms(SECRET).upper, SECRET)).toEqual(['plain']); // the detector does see leaks
});

test('a secret split across two chunks: the piece ending one and the piece starting the next', () => {
  const r = new Redactor([SECRET]);
  const first = r.text(`request was: ${SECRET.slice(0, 15)}`);
  const second = r.text(`${SECRET.slice(15)} (truncated)`);
  expect(first).toBe('request was: ***');
  expect(second).toBe('*** (truncated)');
  // Pieces shorter than the documented minimum are not guessed at.
  expect(r.text(`ends with ${SECRET.slice(0, SPLIT_FRAGMENT_MIN - 1)}`)).toBe(`ends with ${SECRET.slice(0, SPLIT_FRAGMENT_MIN - 1)}`);
  // Within a line, a piece is ordinary text.
  expect(r.text(`${SECRET.slice(0, 10)} is not at a boundary here`)).toBe(`${SECRET.slice(0, 10)} is not at a boundary here`);
});

test('ordinary text and other base64 are left alone', () => {
  const r = new Redactor([SECRET]);
  for (const t of ['Noojee subscribe failed with Code -1', `token ${b64('something else entirely, not the key')}`, 'dead beef 1234']) expect(r.text(t)).toBe(t);
});
