import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Document, type Node } from 'yaml';

/** A parsed YAML document that can say where any field path sits in its source. */
export interface LocatedDocument {
  readonly value: unknown;
  /** 1-based line and column of the node at `path`, or of its nearest existing parent. */
  locate(path: readonly PropertyKey[], key?: string): { line: number; column: number };
  /** YAML syntax errors, located. */
  readonly errors: readonly { line: number; column: number; message: string }[];
}

/** Parses YAML text keeping source positions for error messages. */
export const parseLocated = (text: string): LocatedDocument => {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const pos = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const errors = [...doc.errors].map((e) => ({ ...pos(e.pos[0]), message: e.message.split('\n')[0] ?? e.message }));
  return {
    value: errors.length ? undefined : doc.toJS({ maxAliasCount: 100 }),
    errors,
    locate(path, key) {
      let node: unknown = doc.contents;
      let at = doc.contents?.range?.[0] ?? 0;
      for (const part of path) {
        const next = childOf(node, part);
        if (!next) return pos(at);
        node = next.value;
        at = next.keyOffset ?? (next.value as Node | null)?.range?.[0] ?? at;
      }
      if (key !== undefined) {
        const k = childOf(node, key);
        if (k?.keyOffset !== undefined) return pos(k.keyOffset);
      }
      // Point at the value of the last path element when it exists: `cluster: prod` points at `prod`.
      const valueOffset = (node as Node | null)?.range?.[0];
      return pos(path.length && valueOffset !== undefined ? valueOffset : at);
    },
  };
};

const childOf = (node: unknown, part: PropertyKey): { value: unknown; keyOffset?: number } | undefined => {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(part)) {
        return { value: pair.value, keyOffset: pair.key.range?.[0] };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof part === 'number') {
    const item = node.items[part];
    return item === undefined ? undefined : { value: item, keyOffset: (item as Node | null)?.range?.[0] };
  }
  return undefined;
};

/** Formats a field path as `targets[1].prune.enabled`. */
export const formatFieldPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '');
