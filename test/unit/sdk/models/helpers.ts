/** Test helpers for the model: parse or collect issues as `dot.path: message` strings. */
import type { z } from "zod";
import { toDotPath } from "../../../../sdk/src/errors.ts";

/** The issues of a failed parse as `path: message`; throws when the parse succeeds. */
export function issues(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  if (result.success) throw new Error(`expected a failure, got ${JSON.stringify(result.data)}`);
  return result.error.issues.map((i) => `${toDotPath(i.path as (string | number)[])}: ${i.message}`);
}

/** The paths of a failed parse's issues. */
export function issuePaths(schema: z.ZodType, input: unknown): string[] {
  return issues(schema, input).map((line) => line.split(": ")[0]!);
}
