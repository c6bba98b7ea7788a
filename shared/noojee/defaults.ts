/**
 * Defaults of the Noojee settings (the zod schema in shared/config/noojee.ts), the values
 * local.settings.sample.json and infra/main.bicep give the trigger settings. Free of imports.
 */
export const DEFAULT_NOOJEE_SCHEDULE = '0 * * * * *';
export const DEFAULT_NOOJEE_EVENTS_QUEUE = 'noojee-call-events';
export const DEFAULT_NOOJEE_COMMANDS_QUEUE = 'noojee-call-commands';
