/**
 * Zoho's search `criteria`: `(Field:operator:value)` conditions joined by `and` / `or` in
 * parentheses, at most 10, with `(`, `)`, `,` and `\` escaped by a backslash in values. Operators
 * here: equals, starts_with. Like Zoho, `equals` is exact (case-insensitive) in a one-condition
 * search and fuzzy in a search of several conditions — "ABC" then also finds "ABC Inc" — so an
 * adapter must compare the hits itself.
 */

export type CriteriaNode =
  | { readonly kind: 'condition'; readonly field: string; readonly operator: 'equals' | 'starts_with'; readonly value: string }
  | { readonly kind: 'group'; readonly joins: readonly ('and' | 'or')[]; readonly items: readonly CriteriaNode[] };

export class CriteriaError extends Error {}

export const MAX_CONDITIONS = 10;

export function parseCriteria(source: string): CriteriaNode {
  let pos = 0;
  let conditions = 0;

  const fail = (why: string): never => {
    throw new CriteriaError(`${why} at ${pos}`);
  };

  const term = (): CriteriaNode => {
    if (source[pos] !== '(') fail('expected (');
    if (source[pos + 1] === '(') {
      pos += 1;
      const items: CriteriaNode[] = [term()];
      const joins: ('and' | 'or')[] = [];
      while (source[pos] !== ')') {
        const rest = source.slice(pos).toLowerCase();
        const join = rest.startsWith('and') ? 'and' : rest.startsWith('or') ? 'or' : fail('expected and / or');
        pos += join.length;
        joins.push(join);
        items.push(term());
      }
      pos += 1;
      return { kind: 'group', joins, items };
    }
    pos += 1;
    const parts: string[] = [];
    let current = '';
    for (;;) {
      const c = source[pos];
      if (c === undefined) return fail('unclosed condition');
      if (c === '\\') {
        current += source[pos + 1] ?? '';
        pos += 2;
        continue;
      }
      pos += 1;
      if (c === ')') break;
      if (c === ':' && parts.length < 2) {
        parts.push(current);
        current = '';
      } else {
        current += c;
      }
    }
    parts.push(current);
    const [field, operator, value] = parts;
    if (!field || parts.length !== 3) fail('a condition is (Field:operator:value)');
    if (operator !== 'equals' && operator !== 'starts_with') fail(`operator ${operator} is not supported`);
    conditions += 1;
    if (conditions > MAX_CONDITIONS) fail(`more than ${MAX_CONDITIONS} criteria`);
    return { kind: 'condition', field: field!, operator: operator as 'equals' | 'starts_with', value: value! };
  };

  const node = term();
  if (pos !== source.length) fail('unexpected text after the criteria');
  return node;
}

function countConditions(node: CriteriaNode): number {
  return node.kind === 'condition' ? 1 : node.items.reduce((n, item) => n + countConditions(item), 0);
}

/** Whether a record's fields meet the criteria. */
export function matches(node: CriteriaNode, fields: Readonly<Record<string, unknown>>): boolean {
  const fuzzy = countConditions(node) > 1;
  const test = (n: CriteriaNode): boolean => {
    if (n.kind === 'condition') {
      const raw = fields[n.field];
      const held = (raw && typeof raw === 'object' && 'id' in raw ? String((raw as { id: unknown }).id) : typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '').toLowerCase();
      const wanted = n.value.toLowerCase();
      if (held === '' || wanted === '') return false;
      return n.operator === 'starts_with' || fuzzy ? held.startsWith(wanted) : held === wanted;
    }
    let result = test(n.items[0]!);
    n.items.slice(1).forEach((item, i) => {
      result = n.joins[i] === 'and' ? result && test(item) : result || test(item);
    });
    return result;
  };
  return test(node);
}
