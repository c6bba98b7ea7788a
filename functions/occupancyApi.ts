import type { HttpFunctionDefinition } from '../shared/definition';

/** GET /api/occupancy/{resourceId}: live occupancy of a room or desk (404 unknown, 400 malformed id). */
export const occupancyApi: HttpFunctionDefinition = {
  name: 'occupancyApi',
  trigger: { kind: 'http', route: 'occupancy/{resourceId}', methods: ['GET'], authLevel: 'function' },
  handler: async (req, ctx) => (await import('../shared/occupancy/api')).getOccupancy(req, ctx),
};
