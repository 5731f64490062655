/**
 * A reader for the block YAML most manifests are written in (mappings, sequences, plain and quoted scalars over one
 * or several lines, literal block scalars, one-line flow collections), which produces what parseManifests produces
 * with the yaml library, many times faster and without its document tree. It declines (returns undefined) on
 * anything outside that subset: anchors, aliases, tags, flow collections over several lines, folded and
 * keep-chomped block scalars, quoted or unusual keys, tabs, CR line ends, directives, duplicate keys, bad
 * indentation, deep nesting. The caller then reads the text with the yaml library, which also reports every
 * error: this reader never decides that a text is invalid.
 */

/** What the caller records about scalars, as it records them from the yaml library's document. */
export interface FastYamlHooks {
  /** The value of an untagged plain scalar (go-yaml's resolution). */
  readonly resolve: (text: string) => unknown;
  /** `map[key]` was a quoted scalar. */
  readonly quoted: (map: object, key: string) => void;
  /** `map[key]` was a plain scalar whose value is not its text (a number, boolean, null or timestamp). */
  readonly plainText: (map: object, key: string, text: string) => void;
}

/** One document of the stream, its root a mapping. */
export interface FastDocument {
  readonly value: Record<string, unknown>;
  /** 1-based line of the root mapping's first key. */
  readonly line: number;
  /** Paths of the fields written empty (`key:`). */
  readonly emptyNulls: (string | number)[][];
  /** The source text of each value of the root's metadata.annotations (empty ones ""). */
  readonly annotationTexts: Map<string, string> | undefined;
}

interface Line {
  indent: number;
  /** The line after its indentation. */
  text: string;
  readonly no: number;
}

/** Thrown inside the reader to decline; never escapes it. */
class Decline extends Error {}
const DECLINE = new Decline('declined: the yaml library reads this text');
const decline = (): never => {
  throw DECLINE;
};

/** Nesting deeper than this is the yaml library's (this reader recurses once a level). */
const MAX_DEPTH = 200;

/** A key this reader takes: a plain word of the characters Kubernetes keys use. */
const KEY = /^[A-Za-z0-9_$][A-Za-z0-9_./+~$-]*$/;
/** Characters that start something other than a plain scalar (or a plain scalar this reader leaves alone). */
const INDICATORS = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '?', ',', ']', '}', ':', '#', '[', '{', "'", '"']);
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', ' ': ' ' };

/** The documents of `text`, or undefined when the yaml library must read it. */
export const fastParseDocuments = (text: string, hooks: FastYamlHooks): FastDocument[] | undefined => {
  if (text.includes('\r') || text.includes('\t') || text.charCodeAt(0) === 0xfeff) return undefined;
  const docs: Line[][] = [[]];
  const raw = text.split('\n');
  for (let n = 0; n < raw.length; n++) {
    const s = raw[n] as string;
    if (s.startsWith('---')) {
      const rest = s.slice(3);
      if (rest.trim() !== '' && !/^\s+#/.test(rest)) return undefined;
      docs.push([]);
      continue;
    }
    if (s.startsWith('...') || s.startsWith('%')) return undefined;
    const body = s.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    (docs[docs.length - 1] as Line[]).push({ indent: s.length - body.length, text: body, no: n + 1 });
  }
  try {
    const out: FastDocument[] = [];
    for (const lines of docs) {
      if (!lines.length) continue;
      out.push(new Reader(lines, raw, text.endsWith('\n'), hooks).document());
    }
    return out;
  } catch (err) {
    if (err === DECLINE) return undefined;
    throw err;
  }
};

class Reader {
  private i = 0;
  private readonly path: (string | number)[] = [];
  readonly emptyNulls: (string | number)[][] = [];
  annotationTexts: Map<string, string> | undefined;

  constructor(
    private readonly lines: Line[],
    /** The text's lines as written (block scalars read them, blank and comment-like lines included). */
    private readonly raw: readonly string[],
    private readonly endsWithNewline: boolean,
    private readonly hooks: FastYamlHooks,
  ) {}

  document(): FastDocument {
    const first = this.lines[0] as Line;
    if (isSeqLine(first)) decline();
    const value = this.map(first.indent);
    if (this.i < this.lines.length) decline();
    return { value, line: first.no, emptyNulls: this.emptyNulls, annotationTexts: this.annotationTexts };
  }

  /** Whether the node being read is the root's metadata.annotations (whose value texts are kept). */
  private atAnnotations(): boolean {
    return this.path.length === 2 && this.path[0] === 'metadata' && this.path[1] === 'annotations';
  }

  private get line(): Line | undefined {
    return this.lines[this.i];
  }

  private map(indent: number): Record<string, unknown> {
    if (this.path.length > MAX_DEPTH) decline();
    const obj: Record<string, unknown> = {};
    const texts = this.atAnnotations() ? new Map<string, string>() : undefined;
    if (texts) this.annotationTexts = texts;
    for (let l = this.line; l && l.indent === indent; l = this.line) {
      if (isSeqLine(l)) decline();
      const colon = keyEnd(l.text);
      const key = l.text.slice(0, colon);
      if (!KEY.test(key) || key === '__proto__' || this.hooks.resolve(key) !== key || Object.prototype.hasOwnProperty.call(obj, key)) decline();
      const rest = l.text.slice(colon + 1);
      this.i++;
      this.path.push(key);
      const v = this.value(rest, indent, true);
      this.path.pop();
      obj[key] = v.value;
      if (v.kind === 'quoted') this.hooks.quoted(obj, key);
      else if (v.kind === 'plain' && v.value !== v.source) this.hooks.plainText(obj, key, v.source);
      else if (v.kind === 'empty') this.emptyNulls.push([...this.path, key]);
      if (texts) texts.set(key, v.kind === 'plain' ? v.source : v.kind === 'quoted' ? v.value : v.kind === 'empty' ? '' : decline());
    }
    if (this.line && this.line.indent > indent) decline();
    return obj;
  }

  private seq(indent: number): unknown[] {
    if (this.path.length > MAX_DEPTH) decline();
    const arr: unknown[] = [];
    for (let l = this.line; l && l.indent === indent && isSeqLine(l); l = this.line) {
      const content = l.text.slice(1).trimStart();
      this.path.push(arr.length);
      if (content === '' || content.startsWith('#')) {
        this.i++;
        const next = this.line;
        arr.push(next && next.indent > indent ? this.block(next.indent) : null);
      } else if (content.startsWith('-') && (content.length === 1 || content[1] === ' ')) {
        decline();
      } else if (isEntry(content)) {
        // A compact mapping: its keys sit at the column of its first key.
        l.indent += l.text.length - content.length;
        l.text = content;
        arr.push(this.map(l.indent));
      } else {
        this.i++;
        arr.push(this.value(content, indent, false).value);
      }
      this.path.pop();
    }
    if (this.line && this.line.indent > indent) decline();
    return arr;
  }

  /**
   * A literal block scalar (`|`, `|-`) whose header is on the line just read and whose content is the raw lines
   * after it indented past `indent`; its indentation found from its first line (an explicit indicator declines).
   */
  private literal(header: string, indent: number): Value {
    // Keep chomping (`|+`) and indentation indicators are left to the yaml library.
    const m = /^\|(-?)(\s+#.*)?$/.exec(header);
    if (!m) return decline();
    const chomp = m[1];
    const start = (this.lines[this.i - 1] as Line).no; // the header's line number is the raw index of the first content line
    let end = start;
    let contentIndent = -1;
    let maxLeadingBlank = 0;
    const body: string[] = [];
    // The empty string after a final line break is not a line.
    const limit = this.endsWithNewline ? this.raw.length - 1 : this.raw.length;
    for (; end < limit; end++) {
      const r = this.raw[end] as string;
      const trimmed = r.trimStart();
      const lead = r.length - trimmed.length;
      if (trimmed === '') {
        if (contentIndent < 0) maxLeadingBlank = Math.max(maxLeadingBlank, lead);
        body.push(r);
        continue;
      }
      if (lead <= indent) break;
      if (contentIndent < 0) contentIndent = lead;
      else if (lead < contentIndent) decline();
      body.push(r);
    }
    // No content, blank lines deeper than the first text line (an error), or a scalar that runs to a last line with
    // no line break (go-yaml's reading differs there): the yaml library reads those.
    if (contentIndent < 0 || maxLeadingBlank > contentIndent || (end === limit && !this.endsWithNewline)) decline();
    // The raw lines after the last content line that belong to the next node (blank) are not the scalar's.
    let last = body.length;
    while (last > 0 && (body[last - 1] as string).trim() === '') last--;
    const text = body
      .slice(0, last)
      .map((r) => r.slice(contentIndent))
      .join('\n');
    const value = chomp === '-' ? text : `${text}\n`;
    // Skip the structure lines the content was read as.
    while (this.line && this.line.no <= start + body.length) this.i++;
    if (this.line && this.line.indent > indent) decline();
    return { kind: 'quoted', value };
  }

  /**
   * A single-quoted scalar over several lines (older CRD generators write descriptions so): each line break folds
   * to a space, blank lines to line breaks, continuation lines lose their indentation. Continuation lines at or
   * left of `indent` (go-yaml reads them; the yaml library does not) decline.
   */
  private singleQuotedLines(first: string, indent: number): Value {
    let out = unquoteSingle(first.slice(1)).trimEnd();
    this.quotedContinuation(indent, (body, breaks) => {
      out += breaks ? '\n'.repeat(breaks) : ' ';
      const close = closingQuote(body);
      if (close < 0) {
        out += unquoteSingle(body).trimEnd();
        return false;
      }
      out += unquoteSingle(body.slice(0, close));
      endOfValue(body, close + 1);
      return true;
    });
    return { kind: 'quoted', value: out };
  }

  /**
   * The raw lines after the current one that continue a quoted scalar: `take` gets each non-blank one (without its
   * indentation) with the number of blank lines before it, and says whether the scalar closed on it. A document
   * marker, a line at or left of `indent`, or the end of the text declines.
   */
  private quotedContinuation(indent: number, take: (body: string, breaks: number) => boolean): void {
    const start = (this.lines[this.i - 1] as Line).no;
    let breaks = 0;
    for (let end = start; end < this.raw.length; end++) {
      const r = this.raw[end] as string;
      if (r.startsWith('---') || r.startsWith('...')) decline();
      const body = r.trimStart();
      if (body.trim() === '') {
        breaks++;
        continue;
      }
      if (r.length - body.length <= indent) decline();
      if (take(body, breaks)) {
        while (this.line && this.line.no <= end + 1) this.i++;
        if (this.line && this.line.indent > indent) decline();
        return;
      }
      breaks = 0;
    }
    decline();
  }

  /**
   * A plain scalar over several lines (CRD descriptions): `first` is its first line; each line break folds to a
   * space, blank lines to line breaks. A continuation line that could be read as anything else declines.
   */
  private plainLines(first: string, indent: number): Value {
    const start = (this.lines[this.i - 1] as Line).no;
    let out = first;
    let breaks = 0;
    let last = start - 1;
    for (let end = start; end < this.raw.length; end++) {
      const r = this.raw[end] as string;
      const body = r.trim();
      if (body === '') {
        breaks++;
        continue;
      }
      if (r.length - r.trimStart().length <= indent) break;
      // Any character may start a continuation line (`'ReplaceFullPath'`, `- x`: text); a comment, a pair or a
      // comment after the text is the yaml library's.
      if (body[0] === '#' || body.includes(': ') || body.endsWith(':') || body.includes(' #')) decline();
      out += breaks ? '\n'.repeat(breaks) : ' ';
      breaks = 0;
      out += body;
      last = end;
    }
    while (this.line && this.line.no <= last + 1) this.i++;
    if (this.line && this.line.indent > indent) decline();
    return { kind: 'plain', value: this.hooks.resolve(out), source: out };
  }

  /**
   * A double-quoted scalar over several lines: line breaks fold as in a single-quoted one, except one escaped with
   * a final `\\` (joined without a space); escapes are read after the lines are joined.
   */
  private doubleQuotedLines(first: string, indent: number): Value {
    let joined = first.slice(1);
    this.quotedContinuation(indent, (body, breaks) => {
      if (/(^|[^\\])(\\\\)*\\$/.test(joined)) {
        if (breaks) decline();
        joined = joined.slice(0, -1);
      } else {
        // White space before a break is dropped, unless escaped (the yaml library's reading there is not copied).
        if (/\\\s+$/.test(joined)) decline();
        joined = joined.trimEnd() + (breaks ? '\n'.repeat(breaks) : ' ');
      }
      const close = closingDouble(body, 0);
      if (close < 0) {
        joined += body;
        return false;
      }
      joined += body.slice(0, close);
      endOfValue(body, close + 1);
      return true;
    });
    return { kind: 'quoted', value: unescapeDouble(joined) };
  }

  private block(indent: number): unknown {
    return isSeqLine(this.line as Line) ? this.seq(indent) : this.map(indent);
  }

  /** The value after `key:` (or `- `); `indent` is the key's (or the dash's) column. */
  private value(rest: string, indent: number, inMap: boolean): Value {
    const s = rest.trim();
    if (s === '' || (s.startsWith('#') && (rest === '' || rest[0] === ' '))) {
      const next = this.line;
      if (next && next.indent > indent) return { kind: 'block', value: this.block(next.indent) };
      // An indentless sequence: `key:` then `- item` at the key's column.
      if (inMap && next && next.indent === indent && isSeqLine(next)) return { kind: 'block', value: this.seq(indent) };
      return { kind: 'empty', value: null };
    }
    if (rest[0] !== ' ' && inMap) decline();
    if (s[0] === '|') return this.literal(s, indent);
    if (s[0] === '{' || s[0] === '[') {
      // metadata.annotations written as a flow mapping: the texts of its values are the yaml library's to keep.
      if (this.atAnnotations() && !/^\{\}(\s+#.*)?$/.test(s)) decline();
      const value = flowCollection(s, this.hooks);
      if (this.line && this.line.indent > indent) decline();
      return { kind: 'block', value };
    }
    if (s[0] === "'" && !closesOnLine(s)) return this.singleQuotedLines(s, indent);
    if (s[0] === '"' && closingDouble(s, 1) < 0) return this.doubleQuotedLines(s, indent);
    const v = scalar(s, this.hooks.resolve);
    // A plain scalar continued on the next, more indented lines (after a comment or a quoted one: an error).
    if (this.line && this.line.indent > indent) return v.kind === 'plain' && !s.includes(' #') ? this.plainLines(v.source, indent) : decline();
    return v;
  }
}

type Value = { kind: 'plain'; value: unknown; source: string } | { kind: 'quoted'; value: string } | { kind: 'empty'; value: null } | { kind: 'block'; value: unknown };

const isSeqLine = (l: Line): boolean => l.text[0] === '-' && (l.text.length === 1 || l.text[1] === ' ');

/** Where a `key:` entry's colon is (followed by a space or the end of the line), or a decline. */
const keyEnd = (text: string): number => {
  const c = text[0];
  if (c === "'" || c === '"' || c === '?') decline();
  for (let j = text.indexOf(':'); j >= 0; j = text.indexOf(':', j + 1)) {
    if (j + 1 === text.length || text[j + 1] === ' ') return j;
  }
  return decline();
};

/** Whether a line's text is a `key: ...` entry (as opposed to a scalar). */
const isEntry = (text: string): boolean => {
  const c = text[0];
  if (c === "'" || c === '"' || c === '[' || c === '{') return false;
  for (let j = text.indexOf(':'); j >= 0; j = text.indexOf(':', j + 1)) {
    if (j + 1 === text.length || text[j + 1] === ' ') return true;
    if (text[j + 1] === '#') return false;
  }
  return false;
};

/** A one-line scalar (trimmed, maybe followed by a comment). */
const scalar = (s: string, resolve: (text: string) => unknown): Value => {
  const c = s[0] as string;
  if (c === "'") {
    const close = closingQuote(s.slice(1));
    if (close < 0) return decline();
    endOfValue(s, close + 2);
    return { kind: 'quoted', value: unquoteSingle(s.slice(1, close + 1)) };
  }
  if (c === '"') {
    const close = closingDouble(s, 1);
    if (close < 0) return decline();
    endOfValue(s, close + 1);
    return { kind: 'quoted', value: unescapeDouble(s.slice(1, close)) };
  }
  if (c === '{' || c === '[') return decline(); // flow collections: flowCollection, with the hooks
  // `- ` here would be a sequence where a scalar belongs; `-1` and `-foo` are plain scalars.
  if (c === '-' && (s.length === 1 || s[1] === ' ')) return decline();
  if (INDICATORS.has(c)) return decline();
  const hash = s.indexOf(' #');
  const source = (hash >= 0 ? s.slice(0, hash) : s).trimEnd();
  if (source.includes(': ') || source.endsWith(':')) decline();
  return { kind: 'plain', value: resolve(source), source };
};

/**
 * A flow collection on one line (`[]`, `{}`, `["get", "list"]`, `{matchLabels: {app: b}}`), nested ones included,
 * of plain and quoted scalars; empty entries, a trailing comma, quoted or complex keys, comments inside and
 * anything over several lines decline. Styles are recorded on flow mappings as on block ones.
 */
const flowCollection = (s: string, hooks: FastYamlHooks): unknown => {
  let j = 0;
  const skipSpaces = () => {
    while (s[j] === ' ') j++;
  };
  /** A scalar inside a flow collection: quoted, or plain up to the next `,`, `]` or `}`. */
  const flowScalar = (): Value => {
    const c = s[j];
    if (c === "'" || c === '"') {
      const end = quotedEnd(s, j);
      const v = scalar(s.slice(j, end), hooks.resolve);
      j = end;
      return v;
    }
    let e = j;
    while (e < s.length && s[e] !== ',' && s[e] !== ']' && s[e] !== '}') e++;
    const text = s.slice(j, e).trimEnd();
    // Empty entries, indicators, pairs and comments are the yaml library's.
    if (text === '' || INDICATORS.has(text[0] as string) || (text[0] === '-' && (text.length === 1 || text[1] === ' ')) || /[:[{}]| #/.test(text)) decline();
    j = e;
    return { kind: 'plain', value: hooks.resolve(text), source: text };
  };
  const item = (depth: number): Value => {
    if (depth > MAX_DEPTH) decline();
    const c = s[j];
    if (c === '[' || c === '{') return { kind: 'block', value: c === '[' ? seq(depth) : map(depth) };
    return flowScalar();
  };
  /** The entries of a collection after its opening bracket, up to and past its closing one. */
  const entries = (close: string, each: () => void): void => {
    j++;
    skipSpaces();
    if (s[j] === close) {
      j++;
      return;
    }
    for (;;) {
      skipSpaces();
      each();
      skipSpaces();
      if (s[j] === close) {
        j++;
        return;
      }
      if (s[j] !== ',') decline();
      j++;
      skipSpaces();
      if (s[j] === close) decline();
    }
  };
  const seq = (depth: number): unknown[] => {
    const out: unknown[] = [];
    entries(']', () => out.push(item(depth + 1).value));
    return out;
  };
  const map = (depth: number): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    entries('}', () => {
      let e = j;
      while (e < s.length && s[e] !== ':' && s[e] !== ',' && s[e] !== '}') e++;
      const key = s.slice(j, e);
      // A plain key, then `: ` and a value (`{a}` and `{a:b}` are the yaml library's).
      if (s[e] !== ':' || s[e + 1] !== ' ' || !KEY.test(key) || key === '__proto__' || hooks.resolve(key) !== key || Object.prototype.hasOwnProperty.call(obj, key)) decline();
      j = e + 2;
      skipSpaces();
      if (s[j] === ',' || s[j] === '}') decline();
      const v = item(depth + 1);
      obj[key] = v.value;
      if (v.kind === 'quoted') hooks.quoted(obj, key);
      else if (v.kind === 'plain' && v.value !== v.source) hooks.plainText(obj, key, v.source);
    });
    return obj;
  };
  const value = item(0).value;
  endOfValue(s, j);
  return value;
};

/** The index just past the quoted scalar that opens at `s[at]` (on this line), or a decline. */
const quotedEnd = (s: string, at: number): number => {
  const close = s[at] === '"' ? closingDouble(s, at + 1) : closingQuote(s.slice(at + 1)) + at + 1;
  return close < at + 1 ? decline() : close + 1;
};

/** The index of the unescaped `"` at or after `from`, or -1. */
const closingDouble = (s: string, from: number): number => {
  for (let j = from; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j;
  }
  return -1;
};

/** Double-quoted text (no closing quote in it) with its escapes read; escapes this reader does not know decline. */
const unescapeDouble = (s: string): string => {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let j = 0; j < s.length; j++) {
    const ch = s[j] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = s[++j];
    const simple = e === undefined ? undefined : ESCAPES[e];
    if (simple !== undefined) out += simple;
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(j + 1, j + 1 + n);
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) decline();
      const code = parseInt(hex, 16);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) decline();
      out += String.fromCodePoint(code);
      j += n;
    } else decline();
  }
  return out;
};

/** Whether a value that opens with `'` closes on its line. */
const closesOnLine = (s: string): boolean => closingQuote(s.slice(1)) >= 0;

/** The index of the `'` that closes a single-quoted scalar in `text` (which starts inside it), or -1. */
const closingQuote = (text: string): number => {
  for (let j = text.indexOf("'"); j >= 0; j = text.indexOf("'", j + 2)) if (text[j + 1] !== "'") return j;
  return -1;
};

/** A piece of single-quoted text with its `''` escapes read (no closing quote in it). */
const unquoteSingle = (text: string): string => text.replaceAll("''", "'");

/** After a closing quote: nothing, or white space and a comment. */
const endOfValue = (s: string, at: number): void => {
  const tail = s.slice(at);
  if (tail.trim() === '') return;
  if (!/^\s+#/.test(tail)) decline();
};
