import type { HttpFunctionDefinition } from '../shared/definition';

/**
 * The Engage listener's notificationUrl: `POST` pusher envelopes → queues (200 only once durably
 * enqueued, 503 when storage is down), `GET ?echo=X` → X. See shared/engage/webhook.ts.
 */
export const engageWebhook: HttpFunctionDefinition = {
  name: 'engageWebhook',
  trigger: { kind: 'http', route: 'engage/webhook', methods: ['GET', 'POST'], authLevel: 'function' },
  handler: async (req, context) => (await import('../shared/engage/webhook')).handle(req, context),
};
