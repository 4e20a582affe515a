/** One page of a cursor-paginated store list. */

/** One page of a cursor-paginated list; `nextCursor` is opaque and null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
