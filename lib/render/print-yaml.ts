/**
 * Prints objects byte for byte as `kubectl kustomize` does. Kustomize 5 prints each resource with
 * sigs.k8s.io/yaml's JSONToYAML: the object goes through encoding/json, the JSON is read back by go-yaml v2 and
 * printed by go-yaml v2's emitter (libyaml's, ported to Go). This module reproduces that pipeline for JSON values:
 * go-yaml v2's key order (a "natural" sort), its quoting decisions, indentation (sequences not indented under
 * mappings, 2 spaces), literal blocks for multi-line strings, and scalars folded at spaces past column 80.
 */

/** The line width past which go-yaml v2 folds a scalar at its next space (libyaml's best_width). */
const BEST_WIDTH = 80;
/** Indentation step (libyaml's best_indent). */
const INDENT = 2;
/** Longest key written as a simple `key:`; longer ones use the explicit `? key` form (libyaml check_simple_key). */
const MAX_SIMPLE_KEY = 128;

/** Prints a stream of objects as `kubectl kustomize` does: one document each, separated by `---`. */
export const printYamlStream = (objects: readonly unknown[]): string => objects.map(printYamlDocument).join('---\n');

/** Prints one value as a YAML document the way sigs.k8s.io/yaml (go-yaml v2) prints the value's JSON. */
export const printYamlDocument = (value: unknown): string => {
  const e = new Emitter();
  e.node(toJsonValue(value), -1, 'root');
  e.documentEnd();
  return e.out;
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** What encoding/json keeps of a value: undefined object members dropped, undefined array items null. */
const toJsonValue = (v: unknown): Json => JSON.parse(JSON.stringify(v ?? null) ?? 'null') as Json;

// ---------------------------------------------------------------------------------------------------------------
// Scalars

/** The text go-yaml v2 prints for a JSON number (read back from encoding/json's text as an int, uint or float). */
export const formatNumber = (n: number): string => {
  const text = Object.is(n, -0) ? '-0' : String(n); // encoding/json's float format matches JS's shortest form
  if (/^-?\d+$/.test(text)) {
    const big = BigInt(text);
    if (big >= -(2n ** 63n) && big <= 2n ** 64n - 1n) return text === '-0' ? '0' : text;
  }
  return formatGoFloatG(n);
};

/** strconv.FormatFloat(f, 'g', -1, 64): shortest digits; exponent form below 1e-4 or from 1e21... and from 1e6. */
const formatGoFloatG = (f: number): string => {
  if (Number.isNaN(f)) return '.nan';
  if (!Number.isFinite(f)) return f > 0 ? '.inf' : '-.inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mantissa = '', expText = '0'] = f.toExponential().split('e');
  const exp = Number(expText);
  const neg = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}${frac ? `.${frac}` : ''}`;
};

const V2_RESOLVE_MAP = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'true',
  'True',
  'TRUE',
  'on',
  'On',
  'ON',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'false',
  'False',
  'FALSE',
  'off',
  'Off',
  'OFF',
  '',
  '~',
  'null',
  'Null',
  'NULL',
  '.nan',
  '.NaN',
  '.NAN',
  '.inf',
  '.Inf',
  '.INF',
  '+.inf',
  '+.Inf',
  '+.INF',
  '-.inf',
  '-.Inf',
  '-.INF',
  '<<',
]);
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const GO_UINT = /^(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const GO_TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[-+](\d{2}):(\d{2}))| (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?)?$/;

/** Whether go-yaml v2 would read the plain scalar `s` as something other than a string (so it must be quoted). */
const v2ResolvesToNonString = (s: string): boolean => {
  const c = s[0];
  const hint = c === undefined ? 'N' : c === '+' || c === '-' ? 'S' : c >= '0' && c <= '9' ? 'D' : 'yYnNtTfFoO~'.includes(c) ? 'M' : c === '.' ? '.' : '';
  if (!hint) return false;
  if (V2_RESOLVE_MAP.has(s)) return true;
  if (hint === '.') return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s);
  if (hint === 'D' || hint === 'S') {
    if (isGoTimestamp(s)) return true;
    const plain = s.replaceAll('_', '');
    if (GO_INT.test(plain) && fitsInt(plain, true)) return true;
    if (GO_UINT.test(plain) && fitsInt(plain, false)) return true;
    if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain))) return true;
  }
  return false;
};

const fitsInt = (s: string, signed: boolean): boolean => {
  const neg = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let n: bigint;
  if (/^0[xX]/.test(body)) n = BigInt(`0x${body.slice(2)}`);
  else if (/^0[oO]/.test(body)) n = BigInt(`0o${body.slice(2)}`);
  else if (/^0[bB]/.test(body)) n = BigInt(`0b${body.slice(2)}`);
  else if (body.length > 1 && body.startsWith('0')) n = BigInt(`0o${body.slice(1)}`);
  else n = BigInt(body);
  if (neg) n = -n;
  return signed ? n >= -(2n ** 63n) && n <= 2n ** 63n - 1n : n <= 2n ** 64n - 1n;
};

const isGoTimestamp = (s: string): boolean => {
  const m = GO_TIMESTAMP.exec(s);
  if (!m) return false;
  const [, y, mo, d, h1, mi1, s1, zh, zm, h2, mi2, s2] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return false;
  const [h, mi, sec] = h1 !== undefined ? [h1, mi1, s1] : [h2, mi2, s2];
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59)) return false;
  if (zh !== undefined && (Number(zh) > 23 || Number(zm) > 59)) return false;
  return true;
};

type Style = 'plain' | 'single' | 'double' | 'literal';

interface Analysis {
  readonly multiline: boolean;
  readonly blockPlainAllowed: boolean;
  readonly singleQuotedAllowed: boolean;
  readonly blockAllowed: boolean;
}

const isBreak = (c: string): boolean => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
/** libyaml's is_printable, over code points (4-byte UTF-8 sequences are not printable there). */
const isPrintable = (c: string): boolean => {
  const cp = c.codePointAt(0) ?? 0;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
};

/**
 * A scalar's characters (code points). A string without surrogates is its own list of characters, which spares
 * an array per scalar (issue #16: the printer's allocations dominated multi-megabyte renders).
 */
type Chars = string | readonly string[];

const charsOf = (s: string): Chars => (/[\ud800-\udfff]/.test(s) ? [...s] : s);

/** The characters `from` up to `to` as a string. */
const runOf = (chars: Chars, from: number, to: number): string => (typeof chars === 'string' ? chars.slice(from, to) : chars.slice(from, to).join(''));

/** libyaml's yaml_emitter_analyze_scalar (block context only; flow collections are always empty here). */
const analyzeScalar = (chars: Chars): Analysis => {
  if (chars.length === 0) return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  const value = typeof chars === 'string' ? chars : chars.join('');
  let blockIndicators = value.startsWith('---') || value.startsWith('...');
  let lineBreaks = false;
  let specialCharacters = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const followedByWhitespace = i + 1 >= chars.length || isBlank(chars[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':') && followedByWhitespace) blockIndicators = true;
      else if (c === '-' && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) {
      blockIndicators = true;
    }
    if (!isPrintable(c)) specialCharacters = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlank(c) || isBreak(c) || c === '\0';
  }
  let blockPlainAllowed = true;
  let singleQuotedAllowed = true;
  let blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false;
  if (trailingSpace) blockAllowed = false;
  if (breakSpace) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
  }
  if (spaceBreak || specialCharacters) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
    blockAllowed = false;
  }
  if (lineBreaks) blockPlainAllowed = false;
  if (blockIndicators) blockPlainAllowed = false;
  return { multiline: lineBreaks, blockPlainAllowed, singleQuotedAllowed, blockAllowed };
};

/** go-yaml v2's encoder choice for a string, then libyaml's fallbacks (yaml_emitter_select_scalar_style). */
const selectStyle = (s: string, a: Analysis, simpleKey: boolean): Style => {
  let style: Style;
  if (s.includes('\n')) style = 'literal';
  else if (!v2ResolvesToNonString(s) && !(BASE60_FLOAT.test(s) && s.includes(':'))) style = 'plain';
  else style = 'double';
  if (simpleKey && a.multiline) style = 'double';
  if (style === 'plain' && (!a.blockPlainAllowed || (s === '' && simpleKey))) style = 'single';
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && (!a.blockAllowed || simpleKey)) style = 'double';
  return style;
};

/** Whether a string value prints as a plain scalar (not quoted, not a block) in a mapping. */
export const printsPlain = (s: string): boolean => selectStyle(s, analyzeScalar([...s]), false) === 'plain';

// ---------------------------------------------------------------------------------------------------------------
// Key order

const isLetter = (c: string): boolean => /\p{L}/u.test(c);
const isDigit = (c: string): boolean => /\p{Nd}/u.test(c);

/** go-yaml v2's keyList.Less for string keys: letters after other runes, runs of digits compared as numbers. */
export const compareKeys = (a: string, b: string): number => (keyLess(a, b) ? -1 : keyLess(b, a) ? 1 : 0);

const keyLess = (a: string, b: string): boolean => {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ac = ar[i] as string;
    const bc = br[i] as string;
    if (ac === bc) continue;
    const al = isLetter(ac);
    const bl = isLetter(bc);
    if (al && bl) return (ac.codePointAt(0) ?? 0) < (bc.codePointAt(0) ?? 0);
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ac === '0' || bc === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j] as string); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai] as string); ai++) an = an * 10n + BigInt((ar[ai]?.codePointAt(0) ?? 48) - 48);
    let bi = i;
    for (; bi < br.length && isDigit(br[bi] as string); bi++) bn = bn * 10n + BigInt((br[bi]?.codePointAt(0) ?? 48) - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return (ac.codePointAt(0) ?? 0) < (bc.codePointAt(0) ?? 0);
  }
  return ar.length < br.length;
};

// ---------------------------------------------------------------------------------------------------------------
// Emitter

type Context = 'root' | 'mapping' | 'sequence';

/** A small block-style emitter with libyaml's column and indentation bookkeeping. */
class Emitter {
  out = '';
  private column = 0;
  private whitespace = true;
  private indention = true;

  /** Emits `v` as a node whose parent collection sits at `indent` (-1 for the document root). */
  node(v: Json, indent: number, context: Context): void {
    if (Array.isArray(v)) {
      if (v.length === 0) return this.indicator('[]', true, false, false);
      // A sequence inside a mapping is not indented (libyaml's indentless sequence).
      const seqIndent = context === 'mapping' && !this.indention ? Math.max(indent, 0) : indent < 0 ? 0 : indent + INDENT;
      for (const item of v) {
        this.writeIndent(seqIndent);
        this.indicator('-', true, false, true);
        this.node(item, seqIndent, 'sequence');
      }
      return;
    }
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v).sort(compareKeys);
      if (keys.length === 0) return this.indicator('{}', true, false, false);
      const mapIndent = indent < 0 ? 0 : indent + INDENT;
      for (const key of keys) {
        this.writeIndent(mapIndent);
        const a = this.analyze(key);
        if (Buffer.byteLength(key) > MAX_SIMPLE_KEY || a.multiline) {
          // libyaml's complex key: `? key` then `: value` on its own line.
          this.indicator('?', true, false, true);
          this.scalar(key, mapIndent, false);
          this.writeIndent(mapIndent);
          this.indicator(':', true, false, true);
        } else {
          this.scalar(key, mapIndent, true);
          this.indicator(':', false, false, false);
        }
        this.node(v[key] as Json, mapIndent, 'mapping');
      }
      return;
    }
    if (typeof v === 'string') return this.scalar(v, indent, false);
    const text = v === null ? 'null' : typeof v === 'boolean' ? String(v) : formatNumber(v);
    this.plain(text, indent < 0 ? 0 : indent + INDENT, false);
  }

  documentEnd(): void {
    this.writeIndent(0);
  }

  private scalar(s: string, parentIndent: number, simpleKey: boolean): void {
    const chars = charsOf(s);
    const a = this.analyze(s, chars);
    const indent = parentIndent < 0 ? 0 : parentIndent + INDENT;
    const allowBreaks = !simpleKey;
    switch (selectStyle(s, a, simpleKey)) {
      case 'plain':
        return this.plain(chars, indent, allowBreaks);
      case 'single':
        return this.singleQuoted(chars, indent, allowBreaks);
      case 'double':
        return this.doubleQuoted(chars, indent, allowBreaks);
      case 'literal':
        return this.literal(chars, indent);
    }
  }

  /** Keys repeat throughout a document: each is analysed once. */
  private readonly analyses = new Map<string, Analysis>();

  private analyze(s: string, chars: Chars = charsOf(s)): Analysis {
    if (s.length > 64) return analyzeScalar(chars);
    let a = this.analyses.get(s);
    if (!a) this.analyses.set(s, (a = analyzeScalar(chars)));
    return a;
  }

  private put(s: string): void {
    this.out += s;
    // Columns count code points; most calls write one BMP character or a run of them (issue #16: linear, cheap).
    this.column += s.length === 1 || !/[\ud800-\udbff]/.test(s) ? s.length : [...s].length;
  }

  private putBreak(): void {
    this.out += '\n';
    this.column = 0;
  }

  /** libyaml's yaml_emitter_write_indicator. */
  private indicator(text: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    this.put(text);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  /** libyaml's yaml_emitter_write_indent. */
  private writeIndent(indent: number): void {
    const target = Math.max(indent, 0);
    if (!this.indention || this.column > target || (this.column === target && !this.whitespace)) this.putBreak();
    while (this.column < target) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private plain(chars: Chars, indent: number, allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.writeIndent(indent);
        else this.put(c);
        spaces = true;
      } else {
        // A run of non-spaces is written at once: only a space can fold the line.
        let end = i + 1;
        while (end < chars.length && chars[end] !== ' ') end++;
        this.put(end === i + 1 ? c : runOf(chars, i, end));
        i = end - 1;
        this.indention = false;
        spaces = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  private singleQuoted(chars: Chars, indent: number, allowBreaks: boolean): void {
    this.indicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1 && chars[i + 1] !== ' ') {
          this.writeIndent(indent);
        } else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        this.put(c === "'" ? "''" : c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.indicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private doubleQuoted(chars: Chars, indent: number, allowBreaks: boolean): void {
    this.indicator('"', true, false, false);
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (!isPrintable(c) || c === '\ufeff' || isBreak(c) || c === '"' || c === '\\') {
        this.put(`\\${escapeFor(c)}`);
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1) {
          this.writeIndent(indent);
          if (chars[i + 1] === ' ') this.put('\\');
        } else this.put(c);
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    }
    this.indicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private literal(chars: Chars, indent: number): void {
    this.indicator('|', true, false, false);
    if (chars[0] === ' ' || isBreak(chars[0] ?? '')) this.indicator(String(INDENT), false, false, false);
    const last = chars[chars.length - 1];
    let chomp = '';
    if (last === undefined || !isBreak(last)) chomp = '-';
    else if (chars.length === 1 || isBreak(chars[chars.length - 2] as string)) chomp = '+';
    if (chomp) this.indicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (isBreak(c)) {
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent(indent);
        // The rest of the line is written at once.
        let end = i + 1;
        while (end < chars.length && !isBreak(chars[end] as string)) end++;
        this.put(end === i + 1 ? c : runOf(chars, i, end));
        i = end - 1;
        this.indention = false;
        breaks = false;
      }
    }
  }

  private writeBreak(c: string): void {
    if (c === '\n') this.putBreak();
    else {
      this.out += c;
      this.column = 0;
    }
    this.whitespace = true;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '\0': '0',
  '\x07': 'a',
  '\b': 'b',
  '\t': 't',
  '\n': 'n',
  '\x0b': 'v',
  '\f': 'f',
  '\r': 'r',
  '\x1b': 'e',
  '"': '"',
  '\\': '\\',
  '\u0085': 'N',
  '\u00a0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

/** The escape libyaml writes after `\` in a double-quoted scalar. */
const escapeFor = (c: string): string => {
  const named = ESCAPES[c];
  if (named !== undefined) return named;
  const cp = c.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase();
  if (cp <= 0xff) return `x${hex.padStart(2, '0')}`;
  if (cp <= 0xffff) return `u${hex.padStart(4, '0')}`;
  return `U${hex.padStart(8, '0')}`;
};
