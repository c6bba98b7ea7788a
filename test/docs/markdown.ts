/** Reads the fenced code blocks of the project's Markdown with the `<!-- doc-test: ... -->` line that classifies each. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The text of the `<!-- doc-test: ... -->` comment right above the fence, if any. */
  marker?: string;
}

export function markdownFiles(root: string): string[] {
  return [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
}

export function codeBlocks(root: string, file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    let j = start - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const m = j >= 0 ? /^<!-- doc-test: (.*) -->$/.exec(lines[j].trim()) : null;
    blocks.push({ file, line: start + 1, lang: open[1] ?? '', code: body.join('\n'), marker: m?.[1] });
  }
  return blocks;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    const h = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (h)
      anchors.add(
        h[1]
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      );
  }
  return anchors;
}

/** Relative links `[text](target)` outside code blocks and inline code. */
export function relativeLinks(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const plain = line.replace(/`[^`]*`/g, '');
    for (const m of plain.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) out.push(m[1]);
  }
  return out;
}

/**
 * A documented CLI line made runnable: `[optional parts]` and `# comments` dropped, placeholders
 * replaced (`<webhook url>` and the like, from `values`).
 */
export function runnableCliLine(line: string, values: Record<string, string>): string {
  let s = line.replace(/\s+#\s.*$/, '');
  s = s.replace(/\s*\[[^\]]*\]/g, '');
  s = s.replace(/<([^>]+)>/g, (all, name: string) => {
    if (!(name in values)) throw new Error(`no value for placeholder ${all} in "${line}"`);
    return values[name];
  });
  for (const [k, v] of Object.entries(values)) if (!k.includes(' ') && /\.json$/.test(k)) s = s.split(` ${k}`).join(` ${v}`);
  return s.trim();
}
