import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';

/** GET /api/occupancy/{resourceId}: live occupancy of a room or desk (404 unknown, 400 malformed id). */
export async function occupancyApi(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await import('../examples/occupancy/api')).getOccupancy(request, context);
}

app.http('occupancyApi', {
  route: 'occupancy/{resourceId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: occupancyApi,
});
