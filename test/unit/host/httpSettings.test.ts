import { readHttpSettings } from '../../../local/host/http';

describe('local host HTTP settings', () => {
  test('defaults: 1 MiB body, 20 s for headers, 60 s for the request, 512 connections', () => {
    expect(readHttpSettings({})).toEqual({
      LOCAL_HTTP_MAX_BODY_BYTES: 1024 * 1024,
      LOCAL_HTTP_HEADERS_TIMEOUT_MS: 20_000,
      LOCAL_HTTP_REQUEST_TIMEOUT_MS: 60_000,
      LOCAL_HTTP_MAX_CONNECTIONS: 512,
    });
  });
  test('bad values are named; the headers timeout may not exceed the request timeout (Node refuses it)', () => {
    expect(() => readHttpSettings({ LOCAL_HTTP_MAX_CONNECTIONS: '0', LOCAL_HTTP_MAX_BODY_BYTES: 'lots' })).toThrow(
      /LOCAL_HTTP_MAX_BODY_BYTES[\s\S]*LOCAL_HTTP_MAX_CONNECTIONS/,
    );
    expect(() => readHttpSettings({ LOCAL_HTTP_HEADERS_TIMEOUT_MS: '5000', LOCAL_HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(
      /LOCAL_HTTP_HEADERS_TIMEOUT_MS: must not exceed LOCAL_HTTP_REQUEST_TIMEOUT_MS/,
    );
  });
});
