import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';

/**
 * The Engage listener's notificationUrl: `POST` pusher envelopes → queues (200 only once durably
 * enqueued, 503 when storage is down), `GET ?echo=X` → X. See shared/engage/webhook.ts.
 */
export async function engageWebhook(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await import('../shared/engage/webhook')).handle(request, context);
}

app.http('engageWebhook', {
  route: 'engage/webhook',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: engageWebhook,
});
