/** The `managedBy` stamp: which infrastructure-as-code stack last wrote an object (sent as the Mailplane-Managed-By header). */
import { z } from "zod";

/** The request header that carries a {@link ManagedBy} stamp (as compact JSON) on a write. */
export const MANAGED_BY_HEADER = "Mailplane-Managed-By";

/** Longest accepted Mailplane-Managed-By header value, in bytes. */
export const MANAGED_BY_MAX_BYTES = 512;

/** Pulumi organization, project and stack names: letters, digits, `-`, `_`, `.`; 1–100 characters. */
const PULUMI_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function pulumiName(description: string) {
  return z
    .string()
    .regex(PULUMI_NAME, { message: "must be 1–100 letters, digits, '-', '_' or '.'" })
    .describe(description);
}

/**
 * Which Pulumi stack declares an object: the provider stamps every create and update with it. Read
 * only: the platform records it from the Mailplane-Managed-By header, never from a body. A write
 * without the header keeps the stamp (the object is still declared in code, and the stack's next
 * `pulumi up` reverts the change); deleting the object ends it.
 * @example ManagedBy.parse({ tool: "pulumi", project: "mail", stack: "prod" })
 */
export const ManagedBy = z
  .strictObject({
    tool: z.literal("pulumi").describe("The tool that declares the object: `pulumi`."),
    organization: pulumiName("The Pulumi organization, when the backend has one.").optional(),
    project: pulumiName("The Pulumi project, e.g. `mail`."),
    stack: pulumiName("The stack, e.g. `prod`."),
  })
  .meta({ id: "ManagedBy" })
  .describe("The infrastructure-as-code stack that last wrote the object.");

/** A {@link ManagedBy} stamp. */
export type ManagedBy = z.infer<typeof ManagedBy>;

/**
 * The read-only metadata field every tenancy object carries: its stamp, or null when no stack wrote it.
 * @example Alias.parse(apiObject).managedBy // { tool: "pulumi", project: "mail", stack: "prod" } or null
 */
export const managedByField = ManagedBy.nullable()
  .default(null)
  .describe(
    "The Pulumi stack that declares this object (read-only; set by the provider's Mailplane-Managed-By header), or null. An edit elsewhere shows as drift in that stack and its next `pulumi up` reverts it.",
  );

/**
 * The header value of a stamp: compact JSON, keys in a fixed order.
 * @example managedByHeaderValue({ tool: "pulumi", project: "mail", stack: "prod" }) // '{"tool":"pulumi","project":"mail","stack":"prod"}'
 */
export function managedByHeaderValue(stamp: ManagedBy): string {
  const { tool, organization, project, stack } = stamp;
  return JSON.stringify({ tool, ...(organization === undefined ? {} : { organization }), project, stack });
}
