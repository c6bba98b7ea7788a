/**
 * Issue 20.3: secrets echoed in a changed form are redacted: any letter case, base64 / base64url / hex
 * (also inside a longer encoded text, e.g. `Basic base64(user:secret)`), split by inserted whitespace
 * or (escaped) line breaks, and split across two chunks (a piece of SPLIT_FRAGMENT_MIN+ characters
 * ending one chunk / starting the next).
 */
import { Redactor, SPLIT_FRAGMENT_MIN } from '../../../shared/redact';
import { echoForms, leaksSecret } from './echoForms';

const SECRET = 'c0ffee11-dead-4bad-beef-1234567890ab';
const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');

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
  for (const t of ['Noojee subscribe failed with Code -1', `token ${b64('something else entirely, not the key')}`, 'dead beef 1234'])
    expect(r.text(t)).toBe(t);
});
