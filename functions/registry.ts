/**
 * Every function of the app, in one list: `functions/index.ts` registers it with Azure,
 * `local/host` runs it locally. Add one import and one entry per function.
 */
import type { FunctionDefinition } from '../shared/definition';
import { health } from './health';

export const definitions: readonly FunctionDefinition[] = [
  health,
];
