/** Echo forms of a secret (issue 20.3) and a leak detector independent of shared/redact.ts, for the redaction tests. */
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
  const flat = text.replace(/\\+[nrt]|\\|\s/g, '').toLowerCase();
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
