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
  'client_secret', 'clientsecret', 'client-secret',
  'password', 'passwd', 'pwd',
  'apikey', 'api_key', 'api-key',
  'access_token', 'refresh_token', 'id_token', 'token',
  'ocp-apim-subscription-key', 'subscription-key', 'subscription_key', 'subscriptionkey',
  'accountkey', 'sharedaccesskey', 'sharedaccesssignature', 'sig',
  'secret', 'secretkey', 'x-functions-key', 'authorization',
];
const NAMES = CREDENTIAL_NAMES.map((n) => n.replace(/[-_]/g, '[-_]?')).join('|');

/** `name=value` in a form, query or connection string (`code=` only as a query parameter: the function key). */
const ASSIGNMENT = new RegExp(`(^|[^A-Za-z0-9])(${NAMES}|(?<=[?&])code)=([^&;\\s"',]+)`, 'gi');
/** `"name": "value"` (JSON, possibly escaped inside a JSON string). */
const JSON_FIELD = new RegExp(`(\\\\?")(${NAMES})(\\\\?"\\s*:\\s*\\\\?")((?:[^"\\\\]|\\\\(?!"))*)`, 'gi');
/** `Name: value` header lines (HTTP dumps in error pages). */
const HEADER = /\b(authorization|ocp-apim-subscription-key|x-functions-key|api-key|apikey)(\s*:\s*)(?:(bearer|basic|sharedkey)\s+)?([^\s,;"'<>]+)/gi;
/** A bearer token wherever it appears. */
const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;

const CREDENTIAL_KEY = new RegExp(`^(${NAMES})$`, 'i');

/** True for a field name that holds a credential (JSON keys of error bodies). */
export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key);
}

/** The values worth searching for (4+ characters), with their URL- and form-encoded forms, longest first. */
function searchable(values: Iterable<string | undefined>): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v || v.length < 4) continue;
    out.add(v);
    out.add(encodeURIComponent(v));
    out.add(new URLSearchParams({ v }).toString().slice(2));
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** A redactor for a set of known secret values (plus the credential patterns, always). */
export class Redactor {
  private readonly values: string[];

  constructor(values: Iterable<string | undefined> = []) {
    this.values = searchable(values);
  }

  /** A redactor knowing these values too. */
  with(values: Iterable<string | undefined>): Redactor {
    return new Redactor([...this.values, ...values]);
  }

  text(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out
      .replace(JSON_FIELD, (_m, q1: string, name: string, sep: string) => `${q1}${name}${sep}${REDACTED}`)
      .replace(HEADER, (_m, name: string, sep: string, scheme: string | undefined) => `${name}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`)
      .replace(BEARER, (_m, word: string) => `${word} ${REDACTED}`)
      .replace(ASSIGNMENT, (_m, before: string, name: string) => `${before}${name}=${REDACTED}`);
  }

  /** A copy of a JSON-like value with credential fields and secret values redacted (strings, arrays, objects). */
  value<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (depth > 20 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.value(v, depth + 1)) as T;
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
    for (const k of [...u.searchParams.keys()]) if (k.toLowerCase() === 'code' || k.toLowerCase() === 'key' || isCredentialKey(k)) u.searchParams.set(k, REDACTED);
    return u.toString().replace(/%2A%2A%2A/g, REDACTED);
  } catch {
    return patternRedactor.text(url);
  }
}

export function redactText(text: string, values: Iterable<string | undefined> = []): string {
  return new Redactor(values).text(text);
}
