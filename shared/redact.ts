/**
 * One redaction for every sink (upstream client errors, saved last-run errors, CLI output, logs):
 * known secret values (the caller's own credentials, configured secrets) and credential-shaped
 * fields (`client_secret=…`, `"apiKey":"…"`, `Authorization: Bearer …`, SAS `sig=…`,
 * `AccountKey=…`, subscription keys, tokens) become `***`. Upstream errors are redacted where they
 * are made; sinks redact again with the configured secrets, since an upstream may echo anything.
 * Dependency-free (no config import), so every module can use it.
 */

export const REDACTED = '***';

/** Names of fields whose value is a credential (form/query/connection-string keys, JSON keys, headers). */
const CREDENTIAL_NAMES = [
  'client_secret',
  'clientsecret',
  'client-secret',
  'password',
  'passwd',
  'pwd',
  'apikey',
  'api_key',
  'api-key',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'ocp-apim-subscription-key',
  'subscription-key',
  'subscription_key',
  'subscriptionkey',
  'accountkey',
  'sharedaccesskey',
  'sharedaccesssignature',
  'sig',
  'secret',
  'secretkey',
  'x-functions-key',
  'authorization',
];
const NAMES = CREDENTIAL_NAMES.map((n) => n.replace(/[-_]/g, '[-_]?')).join('|');

/** `name=value` in a form, query or connection string (`code=` only as a query parameter: the function key). */
const ASSIGNMENT = new RegExp(`(^|[^A-Za-z0-9])(${NAMES}|(?<=[?&])code)=([^&;\\s"',]+)`, 'gi');
/** `"name": "value"` (JSON, possibly escaped inside a JSON string). */
const JSON_FIELD = new RegExp(`(\\\\?")(${NAMES})(\\\\?"\\s*:\\s*\\\\?")((?:[^"\\\\]|\\\\(?!"))*)`, 'gi');
/** `Name: value` header lines (HTTP dumps in error pages). */
const HEADER =
  /\b(authorization|ocp-apim-subscription-key|x-functions-key|api-key|apikey)(\s*:\s*)(?:(bearer|basic|sharedkey)\s+)?([^\s,;"'<>]+)/gi;
/** A bearer token wherever it appears. */
const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;

const CREDENTIAL_KEY = new RegExp(`^(${NAMES})$`, 'i');

/** True for a field name that holds a credential (JSON keys of error bodies). */
export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key);
}

/** Shortest piece of a secret redacted when a secret is split across two chunks (see `echoRanges`). */
export const SPLIT_FRAGMENT_MIN = 6;
/** Shortest base64 run matched for a secret inside a longer base64 text. */
const BASE64_CORE_MIN = 8;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * The base64 runs that encode `value` wherever it sits inside longer base64 text: base64 works in
 * 3-byte groups, so for each of the 3 alignments the groups made only of the value's bytes are the
 * same whatever surrounds them (at most 2 bytes at each end are not covered).
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const from = k === 0 ? 0 : 4;
    const to = Math.floor((k + bytes.length) / 3) * 4;
    const core = enc.slice(from, to);
    if (core.length >= BASE64_CORE_MIN) out.push(core);
  }
  // The whole value encoded alone (its padding included).
  out.push(bytes.toString('base64'));
  return out;
}

/** The literal forms of a secret: as is, URL- and form-encoded, hex, base64 and base64url (also inside a longer encoded text). */
function literalForms(value: string): string[] {
  const forms = new Set<string>([
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    Buffer.from(value, 'utf8').toString('hex'),
  ]);
  for (const core of base64Cores(value)) {
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  }
  return [...forms];
}

/** Lower-cases ASCII letters only (so positions stay the same). */
const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/** Whitespace, or a line break escaped once or more (JSON, JSON inside JSON): what a split echo may have inserted. */
const GAP = /\s|\\+[nrt]/g;

const compiled = new Map<string, RegExp | null>();

/** One case-insensitive pattern of every literal form of the values (cached per set of values). */
function literalPattern(values: readonly string[]): RegExp | null {
  const key = values.join('\u0000');
  let re = compiled.get(key);
  if (re === undefined) {
    const forms = [...new Set(values.flatMap(literalForms))].sort((a, b) => b.length - a.length);
    re = forms.length ? new RegExp(forms.map(escapeRe).join('|'), 'gi') : null;
    if (compiled.size > 100) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

/**
 * Where the values' echoes are in `text`, as [start, end) ranges:
 * - the literal forms, in any letter case (`literalPattern`);
 * - the value split by inserted whitespace or escaped line breaks (`C0FFEE11-DEAD-\n4BAD…`);
 * - a value split across two chunks (two log lines, two writes): a first piece of at least
 *   SPLIT_FRAGMENT_MIN characters ending a line or the text, a last piece of as many starting one.
 */
function echoRanges(text: string, lowered: readonly string[], literal: RegExp | null): [number, number][] {
  const found: [number, number][] = [];
  if (literal) for (const m of text.matchAll(literal)) found.push([m.index, m.index + m[0].length]);
  // Split by gaps: search the text with its gaps removed, mapping positions back.
  const kept: number[] = [];
  let flat = '';
  let last = 0;
  for (const m of text.matchAll(GAP)) {
    for (let i = last; i < m.index; i++) kept.push(i);
    flat += text.slice(last, m.index);
    last = m.index + m[0].length;
  }
  if (last > 0) {
    for (let i = last; i < text.length; i++) kept.push(i);
    flat = asciiLower(flat + text.slice(last));
    for (const v of lowered) {
      for (let at = flat.indexOf(v); at >= 0; at = flat.indexOf(v, at + v.length)) found.push([kept[at], kept[at + v.length - 1] + 1]);
    }
  }
  // Pieces at line boundaries.
  let lineStart = 0;
  for (const rawLine of text.split('\n')) {
    const line = asciiLower(rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine);
    for (const v of lowered) {
      if (v.length <= SPLIT_FRAGMENT_MIN) continue;
      if (line.includes(v.slice(0, SPLIT_FRAGMENT_MIN))) {
        for (let k = v.length - 1; k >= SPLIT_FRAGMENT_MIN; k--) {
          if (line.endsWith(v.slice(0, k))) {
            found.push([lineStart + line.length - k, lineStart + line.length]);
            break;
          }
        }
      }
      if (line.includes(v.slice(-SPLIT_FRAGMENT_MIN))) {
        for (let j = 1; j <= v.length - SPLIT_FRAGMENT_MIN; j++) {
          if (line.startsWith(v.slice(j))) {
            found.push([lineStart, lineStart + v.length - j]);
            break;
          }
        }
      }
    }
    lineStart += rawLine.length + 1;
  }
  return found;
}

/** `text` with the ranges (overlapping or not) replaced by REDACTED. */
function replaceRanges(text: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = 0;
  let current: [number, number] | undefined;
  for (const r of ranges) {
    if (current && r[0] <= current[1]) current[1] = Math.max(current[1], r[1]);
    else {
      if (current) {
        out += text.slice(pos, current[0]) + REDACTED;
        pos = current[1];
      }
      current = [r[0], r[1]];
    }
  }
  out += text.slice(pos, current![0]) + REDACTED + text.slice(current![1]);
  return out;
}

/** A redactor for a set of known secret values (plus the credential patterns, always). */
export class Redactor {
  private readonly values: string[];
  private readonly lowered: string[];
  private readonly literal: RegExp | null;

  constructor(values: Iterable<string | undefined> = []) {
    const kept = new Set<string>();
    for (const v of values) if (v && v.length >= 4) kept.add(v);
    this.values = [...kept].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.lowered = this.values.map(asciiLower);
    this.literal = literalPattern(this.values);
  }

  /** A redactor knowing these values too. */
  with(values: Iterable<string | undefined>): Redactor {
    return new Redactor([...this.values, ...values]);
  }

  text(text: string): string {
    const out = this.values.length ? replaceRanges(text, echoRanges(text, this.lowered, this.literal)) : text;
    return out
      .replace(JSON_FIELD, (_m, q1: string, name: string, sep: string) => `${q1}${name}${sep}${REDACTED}`)
      .replace(
        HEADER,
        (_m, name: string, sep: string, scheme: string | undefined) => `${name}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`,
      )
      .replace(BEARER, (_m, word: string) => `${word} ${REDACTED}`)
      .replace(ASSIGNMENT, (_m, before: string, name: string) => `${before}${name}=${REDACTED}`);
  }

  /** A copy of a JSON-like value with credential fields and secret values redacted (strings, arrays, objects). */
  value<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (depth > 20 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return (value as unknown[]).map((v) => this.value(v, depth + 1)) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isCredentialKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : this.value(v, depth + 1);
    }
    return out as T;
  }
}

/** Patterns only (no known values). */
export const patternRedactor = new Redactor();

/** Hides the function key (`code=`) and any other credential-looking query value of a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const k of [...u.searchParams.keys()])
      if (k.toLowerCase() === 'code' || k.toLowerCase() === 'key' || isCredentialKey(k)) u.searchParams.set(k, REDACTED);
    return u.toString().replace(/%2A%2A%2A/g, REDACTED);
  } catch {
    return patternRedactor.text(url);
  }
}

export function redactText(text: string, values: Iterable<string | undefined> = []): string {
  return new Redactor(values).text(text);
}
