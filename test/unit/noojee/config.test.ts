import { loadConfig } from '../../../shared/config/settings';
import { ConfigError } from '../../../shared/errors';
import { isNoojeeConfigured, monitoredExtensions, notConfiguredReason } from '../../../shared/noojee/setup';

const STORAGE = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('noojee settings', () => {
  it('defaults: off, every-minute schedule, 50 s runs of 30 s polls, default queues', () => {
    const c = loadConfig(STORAGE);
    expect(isNoojeeConfigured(c)).toBe(false);
    expect(notConfiguredReason(c)).toBe('Noojee is not configured (NOOJEE_BASE_URL and NOOJEE_API_KEY not set)');
    expect(c).toMatchObject({
      NOOJEE_SCHEDULE: '0 * * * * *',
      NOOJEE_RUN_SECONDS: 50,
      NOOJEE_POLL_TIMEOUT_SECONDS: 30,
      NOOJEE_HTTP_TIMEOUT_MARGIN_MS: 10000,
      NOOJEE_RETRY_DELAY_MS: 5000,
      NOOJEE_EVENTS_QUEUE: 'noojee-call-events',
      NOOJEE_COMMANDS_QUEUE: 'noojee-call-commands',
      NOOJEE_EVENT_SOURCE: '/noojee/call-management',
    });
  });

  it('parses extensions and strips a trailing slash from the base URL', () => {
    const c = loadConfig({
      ...STORAGE,
      NOOJEE_BASE_URL: 'https://pbx.example.com/',
      NOOJEE_API_KEY: 'k-123-api-key',
      NOOJEE_EXTENSIONS: ' 400, 410 ,,SIP/420',
    });
    expect(isNoojeeConfigured(c)).toBe(true);
    expect(c.NOOJEE_BASE_URL).toBe('https://pbx.example.com');
    expect(monitoredExtensions(c)).toEqual(['400', '410', 'SIP/420']);
  });

  it('requires extensions only when Noojee is configured', () => {
    const c = loadConfig({ ...STORAGE, NOOJEE_BASE_URL: 'https://pbx.example.com', NOOJEE_API_KEY: 'k-123-api-key' });
    expect(() => monitoredExtensions(c)).toThrow(ConfigError);
    expect(() => monitoredExtensions(c)).toThrow(/NOOJEE_EXTENSIONS: required when Noojee is configured/);
  });

  it('names bad values without echoing the secret', () => {
    let error: unknown;
    try {
      loadConfig({
        ...STORAGE,
        NOOJEE_BASE_URL: 'ftp://x',
        NOOJEE_API_KEY: 'super-secret-key',
        NOOJEE_SCHEDULE: '* * * * *',
        NOOJEE_POLL_TIMEOUT_SECONDS: '0',
        NOOJEE_EVENTS_QUEUE: 'Bad_Queue',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    for (const name of ['NOOJEE_BASE_URL', 'NOOJEE_SCHEDULE', 'NOOJEE_POLL_TIMEOUT_SECONDS', 'NOOJEE_EVENTS_QUEUE'])
      expect(text).toContain(name);
    expect(text).not.toContain('super-secret-key');
  });
});
