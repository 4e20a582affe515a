/** How the pack recognises mailplane resources and reads their properties: type tokens, model fields, unknowns. */
import type { z } from "zod";
import { TYPE_MODULE } from "../provider/src/lib/resource.ts";

/** The kinds the pack looks at. */
export type MailplaneKind = "Domain" | "Alias" | "FilterSettings" | "PasswordPolicy" | "ReportSettings";

/**
 * The Pulumi type token of a mailplane resource. Dynamic resources register under
 * `pulumi-nodejs:dynamic/<module>:<type>` (provider/src/lib/resource.ts passes the module and the
 * kind), so each kind has its own token and no marker input is needed.
 * @example mailplaneType("Domain") // "pulumi-nodejs:dynamic/mailplane:Domain"
 */
export function mailplaneType(kind: MailplaneKind): string {
  return `pulumi-nodejs:dynamic/${TYPE_MODULE}:${kind}`;
}

/**
 * The declared model fields of a resource's properties, validated and with the model's defaults:
 * provider inputs (`adopt`, `__provider`) and outputs are left out. Returns undefined when the
 * properties do not pass the model — the provider's `check` already reports those with the field's path.
 * @example modelOf(PasswordPolicySpec, PasswordPolicyFields, { scope: "account", minLength: 8 })?.minLength // 8
 */
export function modelOf<T>(
  spec: z.ZodType<T>,
  fields: z.ZodObject,
  props: Record<string, unknown>,
): T | undefined {
  const declared: Record<string, unknown> = {};
  for (const key of Object.keys(fields.shape)) {
    if (props[key] !== undefined) declared[key] = props[key];
  }
  const parsed = spec.safeParse(declared);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Runs `read` and returns undefined when it touched a value that is unknown during preview
 * (@pulumi/policy throws its UnknownValueError then), so one new resource does not hide the others.
 * @example known(() => domain.props.dnsRecords) // undefined for a domain not created yet
 */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof Error && error.constructor.name === "UnknownValueError") return undefined;
    throw error;
  }
}

// The policy API's types, re-exported so code outside policy/ (the unit tests) names them from here.
export type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
