import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { renderSettingsTables, SETTINGS_GROUPS, TABLE_END, TABLE_START, withSettingsTables } from '../../../contract/settingsTable';
import { settingsSchema } from '../../../shared/config/settings';

const README = join(__dirname, '..', '..', '..', 'README.md');

describe('README settings tables (generated from the zod schemas)', () => {
  test('README.md matches the schemas in shared/config (else: npm run settings-table)', () => {
    const readme = readFileSync(README, 'utf8');
    const expected = withSettingsTables(readme, renderSettingsTables());
    if (expected !== readme) throw new Error('README.md settings tables differ from shared/config: run `npm run settings-table`');
    expect(readme).toContain(TABLE_START);
    expect(readme).toContain(TABLE_END);
  });

  test('every setting of the schema is listed once, with a description', () => {
    const tables = renderSettingsTables();
    for (const name of Object.keys(settingsSchema.shape)) {
      const rows = tables.split('\n').filter((line) => line.startsWith(`| \`${name}\` |`));
      expect(rows).toHaveLength(1);
      expect(rows[0].split(' | ').at(-1)!.replace(/ \|$/, '').trim()).not.toBe('');
    }
    const grouped = SETTINGS_GROUPS.flatMap(([, group]) => Object.keys(group.shape));
    expect(new Set(grouped).size).toBe(grouped.length);
  });

  test('defaults come from the schema; tuning knobs go to the advanced table; test hooks are not settings', () => {
    const tables = renderSettingsTables();
    const [main, advanced] = tables.split('Advanced settings:');
    expect(main).toContain('| `NOTIFICATIONS_PAGE_SIZE` | `100` | no |');
    expect(advanced).toContain('| `NOTIFICATIONS_ENQUEUE_CONCURRENCY` | `32` | no |');
    expect(main).not.toContain('NOTIFICATIONS_ENQUEUE_CONCURRENCY');
    expect(tables).toContain('| `ENGAGE_WEBHOOK_SECRET` | – | **yes** |');
    expect(tables).not.toContain('PAUSE_AFTER_JOURNAL');
    expect(Object.keys(settingsSchema.shape)).not.toContain('NOTIFICATIONS_PAUSE_AFTER_JOURNAL_MS');
  });

  test('a setting without a description is refused by the generator', () => {
    const extra = z.object({ NEW_SETTING: z.string().optional() });
    const groups = SETTINGS_GROUPS as unknown as [string, z.ZodObject][];
    groups.push(['Extra', extra]);
    try {
      expect(() => renderSettingsTables()).toThrow('setting NEW_SETTING has no .meta({ description }) in shared/config');
    } finally {
      groups.pop();
    }
  });
});
