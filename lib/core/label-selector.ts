/** Whether labels match a Kubernetes label selector string (`a=b,c!=d,e in (f,g),!h,i`). */
export const matchesSelector = (selector: string, labels: Record<string, unknown>): boolean => {
  for (const req of splitRequirements(selector)) {
    const r = req.trim();
    if (!r) continue;
    let m: RegExpMatchArray | null;
    if ((m = r.match(/^(\S+)\s+(in|notin)\s+\((.*)\)$/))) {
      const values = (m[3] ?? '').split(',').map((v) => v.trim());
      const has = Object.hasOwn(labels, m[1] as string);
      const v = String(labels[m[1] as string]);
      if (m[2] === 'in' ? !has || !values.includes(v) : has && values.includes(v)) return false;
    } else if ((m = r.match(/^([^!=\s]+)\s*!=\s*(.*)$/))) {
      if (Object.hasOwn(labels, m[1] as string) && String(labels[m[1] as string]) === (m[2] ?? '').trim()) return false;
    } else if ((m = r.match(/^([^!=\s]+)\s*==?\s*(.*)$/))) {
      if (!Object.hasOwn(labels, m[1] as string) || String(labels[m[1] as string]) !== (m[2] ?? '').trim()) return false;
    } else if ((m = r.match(/^!\s*(\S+)$/))) {
      if (Object.hasOwn(labels, m[1] as string)) return false;
    } else if (!Object.hasOwn(labels, r)) return false;
  }
  return true;
};

const splitRequirements = (selector: string): string[] => {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of selector) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
};
