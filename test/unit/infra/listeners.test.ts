/**
 * infra/listeners/<environment>.json: the desired Engage listeners the deploy workflow reconciles.
 * Rendered by scripts/render-listeners.js (the notificationUrl with its function key is only known
 * at deployment), they must parse with the CLI's own schema, and every event type subscribed must
 * be routed to a queue by that environment's ENGAGE_ROUTES (else it lands in the unrouted queue).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desiredListenersSchema } from '../../../cli/listeners';
import { readParameterFile } from './bicepModel';
import { INFRA_DIR, loadDeployment, REPO_ROOT, settingFields } from './deploymentChecks';

const { renderTemplate } = require(join(REPO_ROOT, 'scripts', 'render-listeners.js')) as {
  renderTemplate: (text: string, env: Record<string, string | undefined>) => string;
};

const URL_WITH_KEY = 'https://func-dev-abc.azurewebsites.net/api/engage/webhook?code=k3y/with+chars==';
const templates = readdirSync(join(INFRA_DIR, 'listeners')).filter((f) => f.endsWith('.json'));

describe('infra/listeners templates', () => {
  test('there is one per environment parameter file', () => {
    const environments = readdirSync(join(INFRA_DIR, 'env'))
      .map((f) => f.replace('.parameters.json', ''))
      .sort();
    expect(templates.map((f) => f.replace('.json', '')).sort()).toEqual(environments);
  });

  test.each(templates)('%s renders to a desired-listeners file the CLI accepts, routed by that environment', async (file) => {
    const rendered = JSON.parse(
      renderTemplate(readFileSync(join(INFRA_DIR, 'listeners', file), 'utf8'), { ENGAGE_NOTIFICATION_URL: URL_WITH_KEY }),
    ) as unknown;
    const desired = desiredListenersSchema.parse(rendered);
    expect(desired.length).toBeGreaterThan(0);
    for (const listener of desired) expect(listener.notificationUrl).toBe(URL_WITH_KEY);

    const env = file.replace('.json', '');
    const { appSettings } = await loadDeployment(readParameterFile(join(INFRA_DIR, 'env', `${env}.parameters.json`)));
    const routes = settingFields.ENGAGE_ROUTES.parse(appSettings.ENGAGE_ROUTES) as { eventTypes: string[] }[];
    const routed = new Set(routes.flatMap((r) => r.eventTypes));
    for (const type of desired.flatMap((l) => l.eventTypes)) expect(routed).toContain(type);
  });
});

describe('scripts/render-listeners.js', () => {
  test('substitutes ${NAME} JSON-safely and refuses unset variables without printing values', () => {
    expect(renderTemplate('{"u":"${A}"}', { A: 'x"y' })).toBe('{"u":"x\\"y"}');
    expect(() => renderTemplate('{"u":"${A}","v":"${B}"}', { A: 'secret-value' })).toThrow(/^not set: B$/);
  });

  test('writes the rendered file; exits 1 naming what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'listeners-test-'));
    try {
      const script = join(REPO_ROOT, 'scripts', 'render-listeners.js');
      const template = join(INFRA_DIR, 'listeners', templates[0]);
      const out = join(dir, 'listeners.json');
      const ok = spawnSync(process.execPath, [script, template, out], { env: { ENGAGE_NOTIFICATION_URL: URL_WITH_KEY }, encoding: 'utf8' });
      expect(ok.status).toBe(0);
      expect(ok.stdout + ok.stderr).not.toContain('k3y');
      expect(readFileSync(out, 'utf8')).toContain(URL_WITH_KEY);
      const missing = spawnSync(process.execPath, [script, template, join(dir, 'other.json')], { env: {}, encoding: 'utf8' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toBe('error: not set: ENGAGE_NOTIFICATION_URL\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
