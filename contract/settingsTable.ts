/**
 * `npm run settings-table`: the README's settings tables, generated from the zod schemas in
 * shared/config (each setting's `.meta({ description, default?, advanced? })`, its zod default and
 * SECRET_SETTINGS). `--check` writes nothing and exits 1 when README.md differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { archiveSettings } from '../shared/config/archive';
import { consumerSettings } from '../shared/config/consumer';
import { coreSettings } from '../shared/config/core';
import { engageSettings } from '../shared/config/engage';
import { noojeeSettings } from '../shared/config/noojee';
import { notificationsSettings } from '../shared/config/notifications';
import { SECRET_SETTINGS, settingsSchema } from '../shared/config/settings';
import { repoRoot } from './model';

/** What a setting's schema says about it in the README. */
export interface SettingDoc {
  description: string;
  /** Shown instead of the zod default (a derived or long default, or none). */
  default?: string;
  /** A tuning knob: listed in the advanced table. */
  advanced?: boolean;
}

/** The README's groups, in order; every setting of `settingsSchema` belongs to one. */
export const SETTINGS_GROUPS: readonly (readonly [string, z.ZodObject])[] = [
  ['General', coreSettings],
  ['Engage', engageSettings],
  ['Notification API v2', notificationsSettings],
  ['Noojee', noojeeSettings],
  ['Event archive', archiveSettings],
  ['Consumers', consumerSettings],
];

export const TABLE_START =
  '<!-- settings-table:start: generated from shared/config by `npm run settings-table`; edit the schemas, not this table -->';
export const TABLE_END = '<!-- settings-table:end -->';

function docOf(name: string, schema: z.ZodType): SettingDoc {
  const meta = z.globalRegistry.get(schema) as Partial<SettingDoc> | undefined;
  if (!meta || typeof meta.description !== 'string') throw new Error(`setting ${name} has no .meta({ description }) in shared/config`);
  return { description: meta.description, default: meta.default, advanced: meta.advanced === true };
}

function shownDefault(schema: z.ZodType, doc: SettingDoc): string {
  if (doc.default !== undefined) return doc.default;
  const parsed = schema.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return '–';
  const value: unknown = parsed.data;
  if (value === '') return '(empty)';
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text}\``;
}

/** A table cell: a `|` not already escaped would end the cell (also inside code spans, in GitHub's tables). */
const cell = (text: string) => text.replace(/(?<!\\)\|/g, '\\|');

/** Both tables (everyday settings, then tuning knobs), between the markers. */
export function renderSettingsTables(): string {
  const listed = new Set<string>();
  const rows = { main: [] as string[], advanced: [] as string[] };
  for (const [title, group] of SETTINGS_GROUPS) {
    const main: string[] = [];
    const advanced: string[] = [];
    for (const [name, schema] of Object.entries(group.shape) as [string, z.ZodType][]) {
      listed.add(name);
      const doc = docOf(name, schema);
      const secret = SECRET_SETTINGS.includes(name) ? '**yes**' : 'no';
      (doc.advanced ? advanced : main).push(`| \`${name}\` | ${cell(shownDefault(schema, doc))} | ${secret} | ${cell(doc.description)} |`);
    }
    if (main.length) rows.main.push(`| **${title}** | | | |`, ...main);
    if (advanced.length) rows.advanced.push(`| **${title}** | | | |`, ...advanced);
  }
  const missing = Object.keys(settingsSchema.shape).filter((name) => !listed.has(name));
  if (missing.length) throw new Error(`settings not in SETTINGS_GROUPS (contract/settingsTable.ts): ${missing.join(', ')}`);
  const header = ['| Setting | Default | Secret | Meaning |', '| --- | --- | --- | --- |'];
  return [
    TABLE_START,
    ...header,
    ...rows.main,
    '',
    'Advanced settings: tuning knobs whose defaults suit most deployments (change one with a measured reason).',
    '',
    ...header,
    ...rows.advanced,
    TABLE_END,
  ].join('\n');
}

/** README.md with its settings block replaced by `tables`. */
export function withSettingsTables(readme: string, tables: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no settings-table markers');
  return readme.slice(0, start) + tables + readme.slice(end + TABLE_END.length);
}

function main(): void {
  const file = join(repoRoot(), 'README.md');
  const readme = readFileSync(file, 'utf8');
  const updated = withSettingsTables(readme, renderSettingsTables());
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error('settings-table: README.md differs from the schemas in shared/config (run npm run settings-table)');
      process.exitCode = 1;
    } else console.log('settings-table: README.md is up to date');
    return;
  }
  if (updated !== readme) writeFileSync(file, updated);
  console.log(`settings-table: README.md ${updated === readme ? 'already up to date' : 'written'}`);
}

if (require.main === module) main();
