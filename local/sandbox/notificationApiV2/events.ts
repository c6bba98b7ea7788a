/**
 * Realistic OneWelcome v2 events (UPSTREAM-RESEARCH §1: the shape seen in a public client's test
 * fixture), for the sandbox to publish.
 */
import { randomUUID } from 'node:crypto';

/** A few documented event types (id → category, name). */
export const SAMPLE_EVENT_TYPES: Record<string, { category: string; name: string }> = {
  '101': { category: 'AUTHENTICATION', name: 'Login' },
  '102': { category: 'AUTHENTICATION', name: 'Login failure' },
  '103': { category: 'AUTHENTICATION', name: 'Log off' },
  '105': { category: 'AUTHENTICATION', name: 'Social login' },
  '301': { category: 'IDENTITY_LIFECYCLE', name: 'create account' },
};

const BROWSERS = [
  { os: 'Windows', user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0', browser: 'Chrome', browser_version: '120.0' },
  {
    os: 'Mac OS X',
    user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15',
    browser: 'Safari',
    browser_version: '17.1',
  },
  { os: 'Other', user_agent: 'python-requests/2.27.1', browser: 'Python Requests', browser_version: '2.27' },
];

export interface SampleEvent {
  version: 'V2';
  event_type_id: string;
  event_type_details: { category: string; name: string };
  timestamp: string;
  user: { id: string; segment: string };
  [field: string]: unknown;
}

/** One v2 event of the given type at `at`; `user.id` is a fresh UUID (unique per event). */
export function sampleEvent(eventTypeId: string, at: Date, seq = 0): SampleEvent {
  const details = SAMPLE_EVENT_TYPES[eventTypeId] ?? { category: 'ACCESS', name: `event ${eventTypeId}` };
  const event: SampleEvent = {
    version: 'V2',
    event_type_id: eventTypeId,
    event_type_details: details,
    timestamp: at.toISOString().replace('Z', '000Z'),
    user: { id: randomUUID(), segment: 'segment' },
    client_application: {},
    device: BROWSERS[seq % BROWSERS.length],
    location: { ip: `192.0.2.${(seq % 254) + 1}` },
    authenticated_user: { id: 'login-api' },
  };
  if (details.category === 'IDENTITY_LIFECYCLE') event.identity_status_transition = { new_state: 'ACTIVE' };
  return event;
}
