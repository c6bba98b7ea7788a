/**
 * YAML for the infra tests (workflows, azure.yaml), read with the `yaml` package: YAML 1.2 core
 * schema (so `on:` stays a string key), duplicate keys refused, every syntax error or warning fails
 * with `file:line:column`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

export function parseYaml(text: string, file = '<yaml>'): YamlValue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) {
    const first = problems[0];
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new Error(`${file}:${line}:${col}: ${first.message.split('\n')[0]}`);
  }
  return doc.toJS({ maxAliasCount: 0 }) as YamlValue;
}

/** A YAML file whose top level is a map. */
export function loadYaml(path: string, file = path): { [key: string]: YamlValue } {
  const doc = parseYaml(readFileSync(path, 'utf8'), file);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: not a map`);
  return doc;
}
