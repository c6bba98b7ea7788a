import type { HttpFunctionDefinition } from '../shared/definition';

/** GET /api/health: version and whether queue storage is reachable (503 when it is not). */
export const health: HttpFunctionDefinition = {
  name: 'health',
  trigger: { kind: 'http', route: 'health', methods: ['GET'], authLevel: 'anonymous' },
  handler: async (_req, context) => (await import('../shared/health')).checkHealth(context),
};
