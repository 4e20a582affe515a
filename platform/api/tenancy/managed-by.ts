/** The Mailplane-Managed-By request header: the stack stamp a write records on the objects it writes. */
import type { FastifyRequest } from "fastify";
import { MANAGED_BY_HEADER, MANAGED_BY_MAX_BYTES, ManagedBy } from "../../../sdk/src/index.ts";
import { fieldError, problem } from "../http/problem.ts";

const HEADER = MANAGED_BY_HEADER.toLowerCase();

/**
 * The write's stamp from the Mailplane-Managed-By header (compact JSON of a {@link ManagedBy}), as
 * the store's `managedBy` input; `{}` when the header is absent (the stored stamp stays).
 * @throws 400 MP_BAD_REQUEST naming the header when it is repeated, too long, not JSON or not a stamp.
 * @example store.putObject({ ...input, ...stampOf(request) }, ctx)
 */
export function stampOf(request: FastifyRequest): { managedBy?: ManagedBy } {
  const raw = request.headers[HEADER];
  if (raw === undefined) return {};
  const refuse = (why: string, path: (string | number)[] = []) =>
    problem("MP_BAD_REQUEST", `the ${MANAGED_BY_HEADER} header ${why}`, {
      errors: [fieldError([HEADER, ...path], "custom", why, "headers")],
    });
  if (typeof raw !== "string") throw refuse("must be sent once");
  if (Buffer.byteLength(raw) > MANAGED_BY_MAX_BYTES) {
    throw refuse(`must be at most ${MANAGED_BY_MAX_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw refuse('must be JSON such as {"tool":"pulumi","project":"mail","stack":"prod"}');
  }
  const parsed = ManagedBy.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw refuse(`is not a valid stamp (${at}${issue.message})`, issue.path as (string | number)[]);
  }
  return { managedBy: parsed.data };
}
