/**
 * Starts Azurite (the real Storage emulator, from its npm package) on free ports: in memory by
 * default, or in a directory (`location`) so that a stop/start keeps the data (fault tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { azuriteConnectionString } from '../shared/storage';
import { freePort } from './ports';

export interface AzuriteOptions {
  blobPort?: number;
  queuePort?: number;
  /** Directory for persistence; in-memory when absent. */
  location?: string;
  /** Print Azurite's own output (default: quiet). */
  verbose?: boolean;
  /**
   * Run Azurite in its own process group (npm start): the terminal's Ctrl-C then reaches only our
   * process, which stops the host first (it flushes its last writes) and Azurite after.
   */
  ownProcessGroup?: boolean;
}

export interface RunningAzurite {
  blobPort: number;
  queuePort: number;
  connectionString: string;
  process: ChildProcess;
  /** Freezes Azurite (SIGSTOP): connections stay open and nothing answers, as in a storage brownout. */
  pause(): void;
  /** Lets a paused Azurite run again (SIGCONT). */
  resume(): void;
  stop(): Promise<void>;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const blobPort = options.blobPort ?? (await freePort());
  const queuePort = options.queuePort ?? (await freePort());
  const tablePort = await freePort();
  const bin = require.resolve('azurite/dist/src/azurite.js');
  const args = [
    bin,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(blobPort),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(queuePort),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(tablePort),
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.location ?? process.cwd(),
    detached: options.ownProcessGroup === true,
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.verbose) process.stdout.write(chunk);
      if (/Blob service is successfully listening/.test(output) && /Queue service is successfully listening/.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`Azurite exited early (code ${code}):\n${output.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`Azurite did not start within 30 s:\n${output.slice(-2000)}`)), 30_000).unref();
  });
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // After start-up, keep draining the pipes so Azurite never blocks on a full buffer.
  child.stdout.resume();
  child.stderr.resume();
  // Never outlive the process that started it (a test or script that forgot stop(), or crashed).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stopped: Promise<void> | undefined;
  return {
    blobPort,
    queuePort,
    connectionString: azuriteConnectionString(blobPort, queuePort),
    process: child,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGCONT'); // a paused Azurite cannot handle SIGTERM
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
      return stopped;
    },
  };
}
