import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';

/** GET /api/health: version and whether queue storage is reachable (503 when it is not). */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await import('../shared/health')).checkHealth(context);
}

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: health,
});
