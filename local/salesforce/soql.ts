/**
 * The SOQL the local Salesforce understands: what the adapter sends, and what a person types at
 * /_local/query. SELECT fields (dotted parent fields, one level of child subquery) FROM object
 * [WHERE conditions with AND / OR / NOT / parentheses, = != < > <= >= LIKE IN NOT IN, literals
 * 'text' (with SOQL's backslash escapes), numbers, true / false / null] [ORDER BY field
 * [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n]. Text comparisons ignore case, as SOQL's do.
 * Date and DateTime literals are unquoted (2026-09-10, 2026-09-10T10:00:00Z, …+01:00) and
 * compare with the stored values as times. Anything else is a MALFORMED_QUERY, as Salesforce
 * would answer.
 */

export type Literal = string | number | boolean | null;
export type Path = readonly string[];

export type Condition =
  | { readonly kind: 'and' | 'or'; readonly parts: readonly Condition[] }
  | { readonly kind: 'not'; readonly part: Condition }
  | { readonly kind: 'compare'; readonly path: Path; readonly op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'LIKE'; readonly value: Literal }
  | { readonly kind: 'in'; readonly path: Path; readonly values: readonly Literal[]; readonly negate: boolean };

export type SelectItem = { readonly kind: 'field'; readonly path: Path } | { readonly kind: 'subquery'; readonly query: Query };

export interface Ordering {
  readonly path: Path;
  readonly descending: boolean;
  readonly nullsLast: boolean;
}

export interface Query {
  readonly select: readonly SelectItem[];
  /** The object, or in a subquery the child relationship name. */
  readonly from: string;
  readonly where?: Condition | undefined;
  readonly orderBy: readonly Ordering[];
  readonly limit?: number | undefined;
}

export class SoqlError extends Error {
  override readonly name = 'SoqlError';
}

type Token = { readonly t: 'word' | 'string' | 'number' | 'sym' | 'date'; readonly v: string };

/** SOQL's date and dateTime literal formats. */
const DATE_LITERAL = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))?(?![\w:.+-])/;
const DATE_TIME_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

const UNESCAPE: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SoqlError('unterminated string literal');
        const d = text[i]!;
        if (d === '\\') {
          const e = text[i + 1];
          if (e === undefined || !(e in UNESCAPE)) throw new SoqlError(`invalid escape \\${e ?? ''}`);
          value += UNESCAPE[e];
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ t: 'string', v: value });
    } else if (DATE_LITERAL.test(text.slice(i))) {
      const m = DATE_LITERAL.exec(text.slice(i))!;
      tokens.push({ t: 'date', v: m[0] });
      i += m[0].length;
    } else if (/[0-9-]/.test(c) && /[0-9]/.test(text[i + (c === '-' ? 1 : 0)] ?? '')) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i))!;
      tokens.push({ t: 'number', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ t: 'word', v: m[0] });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (['!=', '<>', '<=', '>='].includes(two)) {
        tokens.push({ t: 'sym', v: two === '<>' ? '!=' : two });
        i += 2;
      } else if ('(),.=<>'.includes(c)) {
        tokens.push({ t: 'sym', v: c });
        i++;
      } else {
        throw new SoqlError(`unexpected character ${c}`);
      }
    }
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.at + offset];
  }
  private isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.t === 'word' && token.v.toUpperCase() === word;
  }
  private isSym(sym: string): boolean {
    const token = this.peek();
    return token?.t === 'sym' && token.v === sym;
  }
  private expectWord(word: string): void {
    if (!this.isWord(word)) throw new SoqlError(`expected ${word}${this.near()}`);
    this.at++;
  }
  private expectSym(sym: string): void {
    if (!this.isSym(sym)) throw new SoqlError(`expected ${sym}${this.near()}`);
    this.at++;
  }
  private near(): string {
    const token = this.peek();
    return token ? ` near ${token.v}` : ' at the end';
  }
  done(): boolean {
    return this.at >= this.tokens.length;
  }

  query(): Query {
    this.expectWord('SELECT');
    const select: SelectItem[] = [];
    do {
      if (this.isSym('(')) {
        this.at++;
        select.push({ kind: 'subquery', query: this.query() });
        this.expectSym(')');
      } else {
        select.push({ kind: 'field', path: this.path() });
      }
    } while (this.isSym(',') && ++this.at);
    this.expectWord('FROM');
    const from = this.name();
    const where = this.isWord('WHERE') && ++this.at ? this.or() : undefined;
    const orderBy: Ordering[] = [];
    if (this.isWord('ORDER')) {
      this.at++;
      this.expectWord('BY');
      do {
        const path = this.path();
        let descending = false;
        if (this.isWord('ASC')) this.at++;
        else if (this.isWord('DESC')) {
          descending = true;
          this.at++;
        }
        let nullsLast = descending;
        if (this.isWord('NULLS')) {
          this.at++;
          if (this.isWord('LAST')) nullsLast = true;
          else if (this.isWord('FIRST')) nullsLast = false;
          else throw new SoqlError(`expected FIRST or LAST${this.near()}`);
          this.at++;
        }
        orderBy.push({ path, descending, nullsLast });
      } while (this.isSym(',') && ++this.at);
    }
    let limit: number | undefined;
    if (this.isWord('LIMIT')) {
      this.at++;
      const token = this.peek();
      if (token?.t !== 'number' || !/^\d+$/.test(token.v)) throw new SoqlError(`expected a number after LIMIT${this.near()}`);
      limit = Number(token.v);
      this.at++;
    }
    return { select, from, where, orderBy, limit };
  }

  private name(): string {
    const token = this.peek();
    if (token?.t !== 'word') throw new SoqlError(`expected a name${this.near()}`);
    this.at++;
    return token.v;
  }

  private path(): string[] {
    const path = [this.name()];
    while (this.isSym('.')) {
      this.at++;
      path.push(this.name());
    }
    return path;
  }

  private or(): Condition {
    const parts = [this.and()];
    while (this.isWord('OR')) {
      this.at++;
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  }

  private and(): Condition {
    const parts = [this.unary()];
    while (this.isWord('AND')) {
      this.at++;
      parts.push(this.unary());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  }

  private unary(): Condition {
    if (this.isWord('NOT')) {
      this.at++;
      return { kind: 'not', part: this.unary() };
    }
    if (this.isSym('(')) {
      this.at++;
      const inner = this.or();
      this.expectSym(')');
      return inner;
    }
    const path = this.path();
    if (this.isWord('IN') || (this.isWord('NOT') && this.isWord('IN', 1))) {
      const negate = this.isWord('NOT');
      this.at += negate ? 2 : 1;
      this.expectSym('(');
      const values = [this.literal()];
      while (this.isSym(',')) {
        this.at++;
        values.push(this.literal());
      }
      this.expectSym(')');
      return { kind: 'in', path, values, negate };
    }
    const token = this.peek();
    let op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'LIKE';
    if (token?.t === 'sym' && ['=', '!=', '<', '>', '<=', '>='].includes(token.v)) op = token.v as typeof op;
    else if (this.isWord('LIKE')) op = 'LIKE';
    else throw new SoqlError(`expected an operator${this.near()}`);
    this.at++;
    return { kind: 'compare', path, op, value: this.literal() };
  }

  private literal(): Literal {
    const token = this.peek();
    if (!token) throw new SoqlError('expected a value at the end');
    this.at++;
    if (token.t === 'string') return token.v;
    if (token.t === 'number') return Number(token.v);
    // A DateTime as the store keeps them (a Date stays a Date: YYYY-MM-DD compares as text).
    if (token.t === 'date') return token.v.includes('T') ? new Date(Date.parse(token.v)).toISOString().replace('Z', '+0000') : token.v;
    if (token.t === 'word') {
      const word = token.v.toLowerCase();
      if (word === 'null') return null;
      if (word === 'true' || word === 'false') return word === 'true';
      // Date literals (2026-09-10, 2026-09-10T10:00:00Z) are not quoted in SOQL.
    }
    throw new SoqlError(`expected a value near ${token.v}`);
  }
}

export function parseSoql(text: string): Query {
  const parser = new Parser(tokenize(text));
  const query = parser.query();
  if (!parser.done()) throw new SoqlError('unexpected text after the query');
  return query;
}

/** Whether a record (read through `get`) meets the condition. */
export function matches(condition: Condition, get: (path: Path) => unknown): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.parts.every((part) => matches(part, get));
    case 'or':
      return condition.parts.some((part) => matches(part, get));
    case 'not':
      return !matches(condition.part, get);
    case 'in': {
      const value = get(condition.path);
      const found = condition.values.some((candidate) => equal(value, candidate));
      return condition.negate ? !found : found;
    }
    case 'compare': {
      const value = get(condition.path);
      switch (condition.op) {
        case '=':
          return equal(value, condition.value);
        case '!=':
          return !equal(value, condition.value);
        case 'LIKE':
          return typeof value === 'string' && typeof condition.value === 'string' && likePattern(condition.value).test(value);
        default: {
          if (value === null || value === undefined || condition.value === null) return false;
          const order = compare(value, condition.value);
          return condition.op === '<' ? order < 0 : condition.op === '>' ? order > 0 : condition.op === '<=' ? order <= 0 : order >= 0;
        }
      }
    }
  }
}

function equal(value: unknown, literal: Literal): boolean {
  if (literal === null) return value === null || value === undefined;
  if (value === null || value === undefined) return false;
  if (isDateTime(value) && isDateTime(literal)) return timeOf(value) === timeOf(literal);
  if (typeof literal === 'string' && typeof value === 'string') return value.toLowerCase() === literal.toLowerCase();
  return value === literal;
}

function likePattern(pattern: string): RegExp {
  const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${source}$`, 'is');
}

/** Order of two field values: numbers by value, text (ISO dates too) by characters, ignoring case. */
export function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (isDateTime(a) && isDateTime(b)) return timeOf(a) - timeOf(b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function isDateTime(value: unknown): value is string {
  return typeof value === 'string' && DATE_TIME_TEXT.test(value);
}

/** `2026-09-10T10:00:00.000+0000` (Salesforce's form) or ISO 8601 → ms. */
function timeOf(value: string): number {
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}
