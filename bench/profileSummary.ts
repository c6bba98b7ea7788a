#!/usr/bin/env node
/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile <dir>`): self time by function
 * and by file/package, so a slow spot can be named precisely.
 *   node dist/bench/profileSummary.js <file.cpuprofile> [--top 25] [--inclusive <regex>]
 * With --inclusive: total time (self + callees) of the matching functions, as % of busy (non-idle) time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  selfMs: number;
  percent: number;
}

/** Where a script URL belongs: a package (`node_modules/<pkg>`), a project file, or node internals. */
export function areaOf(url: string): string {
  if (!url) return '(native / idle / gc)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  const project = /\/dist\/(.+)$/.exec(url);
  if (project) return project[1];
  return url;
}

/**
 * Inclusive time (self + callees) of the functions whose `<name> <area>` matches `pattern`: the
 * outermost matching frame of each sample counts once (recursion is not double-counted).
 */
export function inclusive(profile: CpuProfile, pattern: RegExp, top = 25): ProfileLine[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const keyOf = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${areaOf(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const totals = new Map<string, number>();
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const leaf = byId.get(profile.samples[i])!;
    const us = profile.timeDeltas[i] ?? 0;
    if (leaf.callFrame.functionName !== '(idle)') busyUs += us;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const key = keyOf(byId.get(id)!);
      if (!seen.has(key) && pattern.test(key)) {
        seen.add(key);
        totals.set(key, (totals.get(key) ?? 0) + us);
      }
    }
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / busyUs) * 1000) / 10 }));
}

export function summarise(profile: CpuProfile, top = 25): { totalMs: number; byFunction: ProfileLine[]; byArea: ProfileLine[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++)
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anonymous)'} ${areaOf(url)}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = functionName === '(idle)' ? '(idle)' : functionName === '(garbage collector)' ? '(gc)' : areaOf(url);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const lines = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / totalUs) * 1000) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), byFunction: lines(fn), byArea: lines(area) };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/profileSummary.js <file.cpuprofile> [--top 25]\n');
    process.exit(2);
  }
  const topIndex = process.argv.indexOf('--top');
  const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 25;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const incIndex = process.argv.indexOf('--inclusive');
  if (incIndex > 0) {
    process.stdout.write(`${file}: inclusive time of /${process.argv[incIndex + 1]}/ (% of busy time)\n`);
    for (const l of inclusive(profile, new RegExp(process.argv[incIndex + 1] ?? '.'), top))
      process.stdout.write(`  ${String(l.percent).padStart(5)}%  ${String(l.selfMs).padStart(8)} ms  ${l.name}\n`);
    process.exit(0);
  }
  const s = summarise(profile, top);
  process.stdout.write(`${file}: ${s.totalMs} ms sampled\n\nself time by area:\n`);
  for (const l of s.byArea) process.stdout.write(`  ${String(l.percent).padStart(5)}%  ${String(l.selfMs).padStart(8)} ms  ${l.name}\n`);
  process.stdout.write('\nself time by function:\n');
  for (const l of s.byFunction)
    process.stdout.write(`  ${String(l.percent).padStart(5)}%  ${String(l.selfMs).padStart(8)} ms  ${l.name}\n`);
}
