/**
 * Checks queue messages against the committed contract (docs/asyncapi.yaml + docs/schemas/*.json,
 * kept equal to the code by test/unit/contract): a message the bridge writes that its own contract
 * rejects is a defect.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { POISON_SUFFIX } from '../../shared/poison/queues';

const DOCS = join(__dirname, '..', '..', 'docs');

interface Channel {
  address: string;
  messages: Record<string, { $ref: string }>;
}

type Channels = Map<string, { name: string; validate: ValidateFunction }[]>;
let channels: Channels | undefined;

function load(): Channels {
  if (channels) return channels;
  const doc = parse(readFileSync(join(DOCS, 'asyncapi.yaml'), 'utf8')) as { channels: Record<string, Channel> };
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const compiled = new Map<string, ValidateFunction>();
  const loaded: Channels = new Map();
  for (const [id, channel] of Object.entries(doc.channels)) {
    const list = Object.values(channel.messages).map((m) => {
      const name = m.$ref.slice(m.$ref.lastIndexOf('/') + 1);
      let validate = compiled.get(name);
      if (!validate) {
        validate = ajv.compile(JSON.parse(readFileSync(join(DOCS, 'schemas', `${name}.json`), 'utf8')) as object);
        compiled.set(name, validate);
      }
      return { name, validate };
    });
    loaded.set(id, list);
  }
  return (channels = loaded);
}

/**
 * Asserts that a message body (decoded as the queue trigger hands it over: JSON value, or the text
 * when it is not JSON) is one of the messages of a channel, and returns the name of the first one it
 * matches, in the document's order (the claim-check pointer first, as consumers test for it). The
 * channel is its id in docs/asyncapi.yaml, i.e. the queue's default name (`engage-desk`,
 * `noojee-call-events`, ...), whatever the queue is called in the test; `<id>-poison` checks
 * against `<id>` (poison messages are unchanged).
 */
export function expectMatchesContract(channel: string, body: unknown): string {
  const all = load();
  const messages = all.get(channel) ?? (channel.endsWith(POISON_SUFFIX) ? all.get(channel.slice(0, -POISON_SUFFIX.length)) : undefined);
  if (!messages) throw new Error(`no channel "${channel}" in docs/asyncapi.yaml (known: ${[...all.keys()].join(', ')})`);
  const problems: string[] = [];
  for (const m of messages) {
    if (m.validate(body)) return m.name;
    problems.push(
      `${m.name}: ${(m.validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ')}`,
    );
  }
  throw new Error(
    `message does not match any message of channel "${channel}":\n  ${problems.join('\n  ')}\nmessage: ${JSON.stringify(body).slice(0, 500)}`,
  );
}
