/**
 * Request bodies and queue message texts of the benchmark: Engage pusher envelopes of one
 * notification (a DESKPROGRESSION payload, `base64-json` as the sandbox sends, signed with
 * `ms-signature`), the message the webhook makes of one, and filler texts of a given encoded size
 * for the raw baseline (`filler.ts`).
 */
import { encodeBase64Json } from '../shared/engage/decoder';
import { engageEventType } from '../shared/engage/events';
import { findResourceIds } from '../shared/engage/routes';
import { signBody } from '../shared/engage/signature';
import { cloudEvent } from '../shared/envelope';
import { encodeMessage } from '../shared/queue/writer';

export const BENCH_ACTION = 'DESKPROGRESSION';
export const DEFAULT_EVENT_SOURCE = '/eptura/engage';

export interface SignedBody {
  body: string;
  signature: string;
}

function deskProgression(i: number): unknown[] {
  return [
    {
      BookingId: 100_000 + i,
      ResourceItemId: 1000 + (i % 500),
      UpdateTime: '2026-11-23T09:00:00',
      DeskProgressionAction: i % 3,
      ActionSource: 1,
    },
  ];
}

/** `count` distinct pusher envelopes (ids `bench-<n>`) with one notification each, signed with `secret`. */
export function webhookBodies(count: number, secret: string): SignedBody[] {
  const out: SignedBody[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({
      Id: `bench-${String(i).padStart(8, '0')}`,
      Attempt: 1,
      Properties: { StaticParamA: 'DateTime' },
      Notifications: [{ Action: BENCH_ACTION, DynamicParamA: encodeBase64Json(deskProgression(i)) }],
    });
    out.push({ body, signature: signBody(secret, body) });
  }
  return out;
}

/** Length of the queue message text (base64) the webhook writes for one of those envelopes. */
export function webhookMessageLength(index = 0, source = DEFAULT_EVENT_SOURCE): number {
  const data = deskProgression(index);
  const subject = findResourceIds(data)?.[0];
  const event = cloudEvent({
    id: `bench-${String(index).padStart(8, '0')}:0`,
    source,
    type: engageEventType(BENCH_ACTION),
    data,
    time: new Date().toISOString(),
    ...(subject !== undefined ? { subject } : {}),
  });
  return encodeMessage(event).length;
}
