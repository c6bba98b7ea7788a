/**
 * State of the Notification API sandbox: OAuth clients and users, issued tokens, subscriptions
 * with their pending notifications (destructive reads, retention on a controllable clock) and the
 * fault plan. Pure (no HTTP), so that in-process controls and HTTP endpoints share it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sampleEvent } from './events';

export type Grant = 'client_credentials' | 'password';

export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** Grants this client may use (default both). */
  grants?: Grant[];
}

export interface SandboxUser {
  username: string;
  password: string;
}

export interface IssuedToken {
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

interface Pending {
  event: unknown;
  publishedAt: number;
}

export interface SandboxSubscription {
  id: string;
  client_id: string;
  event_type_ids: string[];
  subscribed_by: string;
  subscription_date: string;
  notification_page_size: number;
  last_request_date: string | null;
  pending: Pending[];
  pagesServed: number;
}

export type Endpoint = 'token' | 'create' | 'get' | 'delete' | 'notifications';

export interface Fault {
  /** Which endpoint (default: any). */
  endpoint?: Endpoint | 'any';
  /**
   * `status`: answer with `status` (default 503); `timeout`: never answer; `slow`: answer after
   * `delayMs`; `invalid`: answer 200 with a body that is not the documented shape.
   */
  kind: 'status' | 'timeout' | 'slow' | 'invalid';
  status?: number;
  delayMs?: number;
  /** How many matching requests it affects (default 1). */
  times?: number;
  /** Let this many matching requests through unharmed first (default 0). */
  after?: number;
}

export class SandboxModel {
  readonly clients = new Map<string, SandboxClient>();
  readonly users = new Map<string, SandboxUser>();
  readonly tokens = new Map<string, IssuedToken>();
  readonly subscriptions = new Map<string, SandboxSubscription>();
  readonly faults: Fault[] = [];
  /** Added to the real clock (retention and token expiry tests). */
  clockOffsetMs = 0;
  /** Notifications handed out by reads, in total. */
  served = 0;
  published = 0;
  /** Access tokens issued, in total. */
  tokensIssued = 0;
  private seq = 0;

  constructor(
    readonly retentionMs: number,
    readonly tokenLifetimeS: number,
    readonly defaultPageSize: number,
    readonly maxPageSize: number,
  ) {}

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  addClient(c: SandboxClient): void {
    this.clients.set(c.clientId, { ...c, scopes: [...c.scopes] });
  }

  addUser(u: SandboxUser): void {
    this.users.set(u.username, { ...u });
  }

  issueToken(clientId: string, scopes: string[]): { token: string; expiresIn: number } {
    const token = randomBytes(24).toString('base64url');
    this.tokensIssued++;
    this.tokens.set(token, { clientId, scopes, expiresAt: this.now() + this.tokenLifetimeS * 1000 });
    return { token, expiresIn: this.tokenLifetimeS };
  }

  /** The token's grant, or undefined when unknown or expired. */
  tokenInfo(token: string): IssuedToken | undefined {
    const t = this.tokens.get(token);
    if (!t) return undefined;
    if (t.expiresAt <= this.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return t;
  }

  createSubscription(clientId: string, eventTypeIds: string[], subscribedBy: string): SandboxSubscription {
    const s: SandboxSubscription = {
      id: randomUUID().replace(/-/g, ''),
      client_id: clientId,
      event_type_ids: [...eventTypeIds],
      subscribed_by: subscribedBy,
      subscription_date: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      notification_page_size: this.defaultPageSize,
      last_request_date: null,
      pending: [],
      pagesServed: 0,
    };
    this.subscriptions.set(s.id, s);
    return s;
  }

  deleteSubscription(id: string): boolean {
    return this.subscriptions.delete(id);
  }

  /** Drops notifications older than the retention period. */
  expire(s: SandboxSubscription): void {
    const oldest = this.now() - this.retentionMs;
    let i = 0;
    while (i < s.pending.length && s.pending[i].publishedAt < oldest) i++;
    if (i > 0) s.pending.splice(0, i);
  }

  /**
   * Publishes events: `events` as given, or `count` generated ones. To one subscription (any event
   * type), or to every subscription listening to each event's type. Returns how many were queued.
   */
  publish(input: { subscriptionId?: string; events?: unknown[]; count?: number; eventTypeId?: string }): number {
    const targets = input.subscriptionId
      ? [this.subscriptions.get(input.subscriptionId)].filter((s) => s !== undefined)
      : [...this.subscriptions.values()];
    if (input.subscriptionId && targets.length === 0) throw new Error(`no subscription "${input.subscriptionId}"`);
    const at = this.now();
    const events =
      input.events ??
      Array.from({ length: input.count ?? 1 }, () => {
        const seq = this.seq++;
        const types = input.eventTypeId ? [input.eventTypeId] : [...new Set(targets.flatMap((s) => s.event_type_ids))];
        const type = types.length ? types[seq % types.length] : '101';
        return sampleEvent(type, new Date(at), seq);
      });
    let queued = 0;
    for (const s of targets) {
      for (const e of events) {
        const typeId = (e as { event_type_id?: unknown }).event_type_id;
        const type = typeof typeId === 'string' || typeof typeId === 'number' ? String(typeId) : '';
        if (input.subscriptionId || s.event_type_ids.includes(type)) {
          s.pending.push({ event: e, publishedAt: at });
          queued++;
        }
      }
    }
    this.published += queued;
    return queued;
  }

  /** Destructive read of the next page. */
  read(s: SandboxSubscription, requestedSize: number | undefined): { page: number; size: number; results: unknown[] } {
    this.expire(s);
    const size = Math.min(requestedSize ?? s.notification_page_size, this.maxPageSize);
    const results = s.pending.splice(0, size).map((p) => p.event);
    s.last_request_date = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    s.pagesServed++;
    this.served += results.length;
    return { page: s.pagesServed, size, results };
  }

  view(s: SandboxSubscription) {
    this.expire(s);
    return {
      id: s.id,
      subscription: {
        client_id: s.client_id,
        event_type_ids: s.event_type_ids,
        subscribed_by: s.subscribed_by,
        subscription_date: s.subscription_date,
        notification_url: null,
        notification_page_size: s.notification_page_size,
      },
      subscription_status: { last_request_date: s.last_request_date, number_of_remaining_notifications: s.pending.length },
    };
  }

  /** The first planned fault for this endpoint, consumed (one `times` use). */
  takeFault(endpoint: Endpoint): Fault | undefined {
    const i = this.faults.findIndex((f) => !f.endpoint || f.endpoint === 'any' || f.endpoint === endpoint);
    if (i < 0) return undefined;
    const f = this.faults[i];
    if (f.after) {
      f.after--;
      return undefined;
    }
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    return f;
  }
}
