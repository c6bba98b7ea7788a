import { loadConfig, SECRET_SETTINGS } from '../../../shared/config/settings';
import { ConfigError } from '../../../shared/errors';
import { clientOptions, drainOptions, notificationApiConfigured } from '../../../shared/notificationApiV2/settings';
import { drainRunsOnStartup } from '../../../shared/notificationApiV2/defaults';

const storage = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('notifications settings', () => {
  it('has defaults that keep the drain off and need no configuration', () => {
    const c = loadConfig(storage);
    expect(notificationApiConfigured(c)).toBe(false);
    expect(c.NOTIFICATIONS_QUEUE).toBe('notifications-v2');
    expect(c.NOTIFICATIONS_SCHEDULE).toBe('0 */1 * * * *');
    expect(c.NOTIFICATIONS_GRANT_TYPE).toBe('client_credentials');
    expect(c.NOTIFICATIONS_CONSUMER_SCOPE).toBe('notification:consent:consumer');
    expect(c.NOTIFICATIONS_ADMIN_SCOPE).toBe('notification:consent:administrator');
    expect(c.NOTIFICATIONS_PAGE_SIZE).toBe(100);
    expect(c.NOTIFICATIONS_NOTIFICATIONS_PATH).toBe('/notification/v1/subscriptions/{id}/notifications');
  });

  it('parses event type ids and rejects empty, duplicate or malformed lists', () => {
    expect(loadConfig({ ...storage, NOTIFICATIONS_EVENT_TYPE_IDS: '101, 301,102' }).NOTIFICATIONS_EVENT_TYPE_IDS).toEqual([
      '101',
      '301',
      '102',
    ]);
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_EVENT_TYPE_IDS: '101,101' })).toThrow(
      /NOTIFICATIONS_EVENT_TYPE_IDS: event type ids must be unique/,
    );
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_EVENT_TYPE_IDS: ' , ' })).toThrow(/at least one/);
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_EVENT_TYPE_IDS: '10 1' })).toThrow(/NOTIFICATIONS_EVENT_TYPE_IDS/);
  });

  it('validates path templates, urls, numbers and client ids', () => {
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_NOTIFICATIONS_PATH: '/subscriptions/notifications' })).toThrow(
      /NOTIFICATIONS_NOTIFICATIONS_PATH: must contain the placeholder \{id\}/,
    );
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_SUBSCRIPTIONS_PATH: 'no-slash' })).toThrow(/NOTIFICATIONS_SUBSCRIPTIONS_PATH/);
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_API_BASE_URL: 'not a url' })).toThrow(/NOTIFICATIONS_API_BASE_URL/);
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_PAGE_SIZE: '0' })).toThrow(/NOTIFICATIONS_PAGE_SIZE/);
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_CLIENT_ID: 'has space' })).toThrow(/NOTIFICATIONS_CLIENT_ID/);
    expect(() => loadConfig({ ...storage, NOTIFICATIONS_QUEUE: 'Bad_Queue' })).toThrow(/NOTIFICATIONS_QUEUE/);
  });

  it('lists the secrets so they are redacted', () => {
    expect(SECRET_SETTINGS).toEqual(
      expect.arrayContaining(['NOTIFICATIONS_CLIENT_SECRET', 'NOTIFICATIONS_PASSWORD', 'NOTIFICATIONS_ADMIN_CLIENT_SECRET']),
    );
  });

  it('requires the credentials of the chosen grant once the API is configured, naming each missing setting', () => {
    const base = { ...storage, NOTIFICATIONS_API_BASE_URL: 'https://tenant.example.com/' };
    let err: unknown;
    try {
      clientOptions(loadConfig(base));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'NOTIFICATIONS_CLIENT_ID: required when NOTIFICATIONS_API_BASE_URL is set',
      'NOTIFICATIONS_CLIENT_SECRET: required for NOTIFICATIONS_GRANT_TYPE=client_credentials',
    ]);
    expect(() => clientOptions(loadConfig({ ...base, NOTIFICATIONS_CLIENT_ID: 'c', NOTIFICATIONS_GRANT_TYPE: 'password' }))).toThrow(
      /NOTIFICATIONS_USERNAME: required[\s\S]*NOTIFICATIONS_PASSWORD: required/,
    );
  });

  it('derives the token URL and the administrator client from the consumer client by default', () => {
    const c = loadConfig({
      ...storage,
      NOTIFICATIONS_API_BASE_URL: 'https://tenant.example.com/',
      NOTIFICATIONS_CLIENT_ID: 'reader',
      NOTIFICATIONS_CLIENT_SECRET: 's3cret-value',
    });
    const o = clientOptions(c);
    expect(o.baseUrl).toBe('https://tenant.example.com');
    expect(o.tokenUrl).toBe('https://tenant.example.com/auth/oauth2.0/v1/token');
    expect(o.consumer).toEqual({ clientId: 'reader', clientSecret: 's3cret-value', scope: 'notification:consent:consumer' });
    expect(o.administrator).toEqual({ clientId: 'reader', clientSecret: 's3cret-value', scope: 'notification:consent:administrator' });
    const withAdmin = clientOptions(
      loadConfig({
        ...storage,
        NOTIFICATIONS_API_BASE_URL: 'https://t.example.com',
        NOTIFICATIONS_CLIENT_ID: 'reader',
        NOTIFICATIONS_CLIENT_SECRET: 'x1234-secret',
        NOTIFICATIONS_ADMIN_CLIENT_ID: 'admin',
        NOTIFICATIONS_ADMIN_CLIENT_SECRET: 'y1234-secret',
        NOTIFICATIONS_TOKEN_URL: 'https://idp.example.com/token',
      }),
    );
    expect(withAdmin.administrator.clientId).toBe('admin');
    expect(withAdmin.tokenUrl).toBe('https://idp.example.com/token');
    const d = drainOptions(c);
    expect(d.subscription.clientId).toBe('reader');
    expect(d.timeBudgetMs).toBe(240_000);
  });

  it('runOnStartup from NOTIFICATIONS_RUN_ON_STARTUP', () => {
    expect(drainRunsOnStartup({})).toBe(false);
    expect(drainRunsOnStartup({ NOTIFICATIONS_RUN_ON_STARTUP: 'True' })).toBe(true);
  });
});
