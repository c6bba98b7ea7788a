/**
 * Every function of the app, in one list: `functions/index.ts` registers it with Azure,
 * `local/host` runs it locally. Add one import and one entry per function.
 */
import type { FunctionDefinition } from '../shared/definition';
import { health } from './health';
import { callEvents } from './callEvents';
import { callCommands } from './callCommands';
import { engageWebhook } from './engageWebhook';
import { notificationsDrain } from './notificationsDrain';
import { occupancyMeetingProgression } from './occupancyMeetingProgression';
import { occupancyDeskProgression } from './occupancyDeskProgression';
import { occupancyMeetingExternal } from './occupancyMeetingExternal';
import { occupancyDesk } from './occupancyDesk';
import { occupancyApi } from './occupancyApi';
import { poisonMonitor } from './poisonMonitor';

export const definitions: readonly FunctionDefinition[] = [
  health,
  callEvents,
  callCommands,
  engageWebhook,
  notificationsDrain,
  occupancyMeetingProgression,
  occupancyDeskProgression,
  occupancyMeetingExternal,
  occupancyDesk,
  occupancyApi,
  poisonMonitor,
];
