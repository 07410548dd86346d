/**
 * Who survives when contacts turn out to be one customer (ID-1b, ID-3): the oldest contact
 * (creation time), the smaller id on a tie. Pure.
 *
 * Why this rule keeps merges cycle-free: creation times never change once written and ids are
 * unique, so (createdAt, contactId) orders all contacts totally and for good. Every merge points
 * a contact at one strictly earlier in that order, and a contact is merged at most once; a chain
 * of merges can therefore never come back to where it started, whoever merges what concurrently.
 */

export interface MergeCandidate {
  readonly contactId: string;
  readonly createdAt: number;
}

/** True when `a` comes before `b`: it survives a merge with `b`. */
export function survivesOver(a: MergeCandidate, b: MergeCandidate): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.contactId < b.contactId;
}

/** The contact the others merge into. */
export function chooseSurvivor<T extends MergeCandidate>(candidates: readonly T[]): T {
  const [first, ...rest] = candidates;
  if (!first) throw new Error('chooseSurvivor needs at least one contact');
  return rest.reduce((best, c) => (survivesOver(c, best) ? c : best), first);
}
