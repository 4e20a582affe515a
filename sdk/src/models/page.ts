/** List envelopes and query parameters: cursor pagination (`?limit=&cursor=` → `{ items, nextCursor }`). */
import { z } from "zod";

/** Query parameters of every list endpoint. */
export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100).describe("Page size (1–500). Default 100."),
  cursor: z.string().optional().describe("`nextCursor` from the previous page; absent for the first page."),
});
/** What a caller passes: the page size and the cursor of the previous page. */
export interface ListQuery {
  limit?: number;
  cursor?: string;
}

/**
 * The envelope of a list: one page of items and the cursor of the next page (null on the last).
 * @example pageOf(Route) // z.object({ items: z.array(Route), nextCursor: z.string().nullable() })
 */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item).describe("This page's items, in ID order."),
    nextCursor: z
      .string()
      .nullable()
      .describe("Pass as `cursor` to get the next page; null on the last page."),
  });
}

/** A page of items of type `T`. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
