/**
 * Defaults of the Noojee settings that function definitions need at registration time. Kept free of
 * imports so that `functions/index` stays cheap to load (the zod schema in shared/config/noojee.ts
 * uses the same constants).
 */
export const DEFAULT_NOOJEE_SCHEDULE = '0 * * * * *';
export const DEFAULT_NOOJEE_EVENTS_QUEUE = 'noojee-call-events';
export const DEFAULT_NOOJEE_COMMANDS_QUEUE = 'noojee-call-commands';

