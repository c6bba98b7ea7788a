/**
 * A strict reader for the YAML subset the GitHub workflows use (no YAML library is installed):
 * block maps and sequences by indentation, `- key: value` items, plain / quoted scalars, flow
 * sequences of scalars (`[a, b]`), literal and folded block scalars (`|`, `>`), comments.
 * Anything else (anchors, tags, flow maps, tabs, inconsistent indentation, duplicate keys) throws
 * with the line number, so the workflows stay simple enough to be checked here.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  number: number;
  indent: number;
  text: string;
}

export class YamlError extends Error {}

export function parseYaml(source: string, file = 'yaml'): YamlValue {
  const raw = source.split(/\r?\n/);
  const lines: Line[] = [];
  raw.forEach((line, i) => {
    if (/^\s*\t/.test(line)) throw new YamlError(`${file}:${i + 1}: tab in indentation`);
    const text = stripComment(line).trimEnd();
    if (text.trim() === '') return;
    lines.push({ number: i + 1, indent: text.length - text.trimStart().length, text: text.trimStart() });
  });
  const reader = new Reader(lines, raw, file);
  if (lines.length === 0) return null;
  const value = reader.block(lines[0]!.indent);
  if (reader.pos < lines.length) throw new YamlError(`${file}:${lines[reader.pos]!.number}: unexpected indentation`);
  return value;
}

/** Drops a `#` comment that starts a line or follows whitespace outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      if (i === 0 || /[\s:[,-]/.test(line[i - 1]!)) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

class Reader {
  pos = 0;
  constructor(
    private readonly lines: Line[],
    private readonly raw: string[],
    private readonly file: string,
  ) {}

  private fail(line: Line, message: string): never {
    throw new YamlError(`${this.file}:${line.number}: ${message}`);
  }

  block(indent: number): YamlValue {
    const first = this.lines[this.pos]!;
    if (first.indent !== indent) this.fail(first, `expected indentation ${indent}, got ${first.indent}`);
    return first.text.startsWith('- ') || first.text === '-' ? this.sequence(indent) : this.map(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) this.fail(line, 'unexpected indentation in a sequence');
      if (!(line.text.startsWith('- ') || line.text === '-')) this.fail(line, 'expected "- " (sequence item)');
      const rest = line.text.slice(1).trimStart();
      const itemIndent = indent + (line.text.length - rest.length);
      if (rest === '') {
        this.pos++;
        items.push(this.nested(indent, line));
      } else if (isMapEntry(rest)) {
        // `- key: value` starts a map whose other keys are indented like `key`.
        this.lines[this.pos] = { number: line.number, indent: itemIndent, text: rest };
        items.push(this.map(itemIndent));
      } else {
        this.pos++;
        items.push(this.scalarOrBlock(rest, line, indent));
      }
    }
    return items;
  }

  private map(indent: number): { [key: string]: YamlValue } {
    const result: { [key: string]: YamlValue } = {};
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) this.fail(line, 'unexpected indentation in a map');
      const match = /^("[^"]*"|'[^']*'|[^\s'"#:[\]{},&*!|>-][^:]*?|[-][^\s:][^:]*?)\s*:(?:\s+(.*))?$/.exec(line.text);
      if (!match) this.fail(line, `expected "key: value", got ${JSON.stringify(line.text)}`);
      const key = unquote(match[1]!);
      if (Object.prototype.hasOwnProperty.call(result, key)) this.fail(line, `duplicate key ${key}`);
      this.pos++;
      const rest = match[2]?.trim() ?? '';
      result[key] = rest === '' ? this.nested(indent, line) : this.scalarOrBlock(rest, line, indent);
    }
    return result;
  }

  /** The value under `key:` / `-` with nothing after it: a deeper block (or a same-indent sequence under a key), else null. */
  private nested(indent: number, owner: Line): YamlValue {
    const next = this.lines[this.pos];
    if (!next || next.indent < indent) return null;
    if (next.indent === indent) return next.text.startsWith('- ') && !owner.text.startsWith('-') ? this.sequence(indent) : null;
    return this.block(next.indent);
  }

  private scalarOrBlock(text: string, line: Line, indent: number): YamlValue {
    if (/^[|>][+-]?$/.test(text)) return this.blockScalar(text, line, indent);
    if (/^[&*!]/.test(text)) this.fail(line, 'anchors, aliases and tags are not supported');
    if (text.startsWith('{')) this.fail(line, 'flow maps are not supported');
    if (text.startsWith('[')) {
      if (!text.endsWith(']')) this.fail(line, 'flow sequences must fit on one line');
      const inner = text.slice(1, -1).trim();
      return inner === '' ? [] : splitFlow(inner).map((item) => scalar(item.trim(), () => this.fail(line, 'bad flow item')));
    }
    return scalar(text, () => this.fail(line, `bad scalar ${text}`));
  }

  private blockScalar(indicator: string, owner: Line, indent: number): string {
    // Block content is every following raw line indented deeper than the owner (blank lines included).
    const contentLines: string[] = [];
    let last = owner.number; // 1-based line number of the last content line consumed
    while (this.pos < this.lines.length && this.lines[this.pos]!.indent > indent) {
      last = this.lines[this.pos]!.number;
      this.pos++;
    }
    const rawLines = this.raw.slice(owner.number, last);
    const contentIndent = Math.min(...rawLines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
    for (const l of rawLines) contentLines.push(l.slice(contentIndent));
    const body = indicator.startsWith('>') ? contentLines.join(' ').replace(/ {2,}/g, ' ') : contentLines.join('\n');
    return indicator.endsWith('-') ? body : `${body}\n`;
  }
}

function isMapEntry(text: string): boolean {
  return /^("[^"]*"|'[^']*'|[^\s'"#:[\]{},&*!|>-][^:]*?)\s*:(\s|$)/.test(text);
}

function splitFlow(text: string): string[] {
  const items: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ',') {
      items.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  items.push(current);
  return items;
}

function unquote(text: string): string {
  if (text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  if (text.startsWith('"') && text.endsWith('"')) return JSON.parse(text) as string;
  return text;
}

function scalar(text: string, fail: () => never): YamlValue {
  if (text.startsWith("'") || text.startsWith('"')) {
    if (text.length < 2 || text[text.length - 1] !== text[0]) fail();
    return unquote(text);
  }
  if (/^(true|false)$/.test(text)) return text === 'true';
  if (/^(null|~)$/.test(text)) return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^[\[\]{}]/.test(text)) fail();
  return text;
}
