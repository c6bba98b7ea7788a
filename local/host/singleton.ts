/**
 * Timer singleton as the Functions host keeps it (WebJobs SingletonManager /
 * BlobLeaseDistributedLockManager, `[Singleton(Mode = Listener)]` on the timer listener): a blob lease
 * on `azure-webjobs-hosts/locks/<hostId>/Host.Functions.<name>.Listener`, 60 s
 * (ListenerLockPeriod, 15–60 s), renewed halfway. A failed renewal drops the lock without cancelling
 * the run in progress (the real host does not either): that is how two runs can overlap.
 * Local settings: `AzureFunctionsWebHost__hostid`, `LOCAL_SINGLETON_LOCK_PERIOD_SECONDS`,
 * `LOCAL_SINGLETON_LOCK` (default off for a lone host, so a SIGKILLed host restarts without waiting
 * a lease period; on for `--instances N`).
 */
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type BlobLeaseClient, type ContainerClient } from '@azure/storage-blob';

export const HOSTS_CONTAINER = 'azure-webjobs-hosts';
export const LOCKS_DIRECTORY = 'locks';
export const DEFAULT_LOCK_PERIOD_SECONDS = 60;

export interface SingletonSettings {
  hostId: string;
  lockPeriodSeconds: number;
  /** No lock: this host runs every occurrence of every timer. */
  disabled: boolean;
}

/** The host id rule: lowercase letters, digits and dashes, at most 32 characters, no trailing dash. */
export function sanitizeHostId(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return id || 'local-host';
}

export function readSingletonSettings(env: NodeJS.ProcessEnv, packageName = 'local-host'): SingletonSettings {
  const raw = env.LOCAL_SINGLETON_LOCK_PERIOD_SECONDS;
  const period = raw === undefined || raw === '' ? DEFAULT_LOCK_PERIOD_SECONDS : Number(raw);
  if (!Number.isInteger(period) || period < 15 || period > 60) {
    throw new Error(
      `LOCAL_SINGLETON_LOCK_PERIOD_SECONDS must be a whole number of seconds from 15 to 60 (a blob lease's limits), got "${raw}"`,
    );
  }
  const explicit = env.AzureFunctionsWebHost__hostid || env.AzureFunctionsWebHost__hostId;
  return {
    hostId: explicit ? explicit : sanitizeHostId(packageName),
    lockPeriodSeconds: period,
    disabled: !/^(true|1)$/i.test(env.LOCAL_SINGLETON_LOCK ?? ''),
  };
}

/** The blob name of a timer function's listener lock (inside `azure-webjobs-hosts`). */
export function listenerLockBlob(hostId: string, functionName: string): string {
  return `${LOCKS_DIRECTORY}/${hostId}/Host.Functions.${functionName}.Listener`;
}

export interface SingletonLog {
  write(level: 'information' | 'warning' | 'error', category: string, message: string): void;
}

/** One function's listener lock, held across runs and renewed at half the lock period. */
export class ListenerLock {
  private lease?: BlobLeaseClient;
  private renewal?: NodeJS.Timeout;
  private readonly instanceId = randomUUID();
  /** Times this instance acquired the lock (diagnostics). */
  acquisitions = 0;

  constructor(
    private readonly container: ContainerClient,
    readonly blobName: string,
    private readonly periodSeconds: number,
    private readonly log: SingletonLog,
    private readonly functionName: string,
  ) {}

  get held(): boolean {
    return this.lease !== undefined;
  }

  /** True when this instance holds the lock (acquiring it if it is free). */
  async ensure(): Promise<boolean> {
    if (this.lease) return true;
    const blob = this.container.getBlockBlobClient(this.blobName);
    try {
      await this.container.createIfNotExists();
      if (!(await blob.exists())) await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch(ignoreConflict);
      const lease = blob.getBlobLeaseClient();
      await lease.acquireLease(this.periodSeconds);
      await blob.setMetadata({ FunctionInstance: this.instanceId }, { conditions: { leaseId: lease.leaseId } }).catch(() => undefined);
      this.lease = lease;
      this.acquisitions++;
      this.log.write('information', 'Host.Singleton', `Singleton lock acquired (${this.blobName}) by ${this.functionName}`);
      this.scheduleRenewal();
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false; // another instance holds it
      this.log.write('warning', 'Host.Singleton', `Could not take the singleton lock ${this.blobName}: ${(err as Error).message}`);
      return false;
    }
  }

  private scheduleRenewal(): void {
    this.renewal = setTimeout(() => void this.renew(), (this.periodSeconds * 1000) / 2);
    this.renewal.unref();
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    try {
      await lease.renewLease();
      if (this.lease === lease) this.scheduleRenewal();
    } catch (err) {
      if (this.lease !== lease) return;
      this.lease = undefined;
      this.log.write(
        'warning',
        'Host.Singleton',
        `Singleton lock ${this.blobName} lost (renewal failed: ${(err as Error).message}); the timer runs again only when this instance takes the lock back`,
      );
    }
  }

  async release(): Promise<void> {
    if (this.renewal) clearTimeout(this.renewal);
    const lease = this.lease;
    this.lease = undefined;
    if (lease) await lease.releaseLease().catch(() => undefined);
  }
}

/** Creates the listener locks of one host (null when the lease is switched off). */
export function singletonLocks(
  connectionString: string,
  settings: SingletonSettings,
  log: SingletonLog,
): ((functionName: string) => ListenerLock) | null {
  if (settings.disabled) return null; // LOCAL_SINGLETON_LOCK is not true: this host runs every timer
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(HOSTS_CONTAINER);
  return (name) => new ListenerLock(container, listenerLockBlob(settings.hostId, name), settings.lockPeriodSeconds, log, name);
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number(err.statusCode) : undefined;
}

function ignoreConflict(err: unknown): void {
  const s = statusOf(err);
  if (s !== 409 && s !== 412) throw err;
}
