/**
 * Drives the pack's policies the way @pulumi/policy's analyzer server does: validateResource with a
 * resource's type and properties, validateStack with the stack's resources, getConfig with the
 * policy config, and collects what they report.
 */
import {
  type MailplaneKind,
  mailplaneType,
  type PolicyResource,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationArgs,
  type StackValidationPolicy,
} from "../../../policy/resources.ts";

const noOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** A resource as a policy sees it: type token, URN and properties. */
export function policyResource(
  kind: MailplaneKind,
  name: string,
  props: Record<string, unknown>,
): PolicyResource {
  const type = mailplaneType(kind);
  return {
    type,
    name,
    urn: `urn:pulumi:test::p::${type}::${name}`,
    props,
    opts: noOptions as PolicyResource["opts"],
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  } as unknown as PolicyResource;
}

/** Runs a resource policy on one resource; returns the messages it reported. */
export async function validateResource(
  policy: ResourceValidationPolicy,
  resource: PolicyResource,
  config: Record<string, unknown> = {},
): Promise<string[]> {
  const reported: string[] = [];
  const args = {
    ...resource,
    stackTags: new Map(),
    getConfig: () => config,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  } as unknown as ResourceValidationArgs;
  const validations = [policy.validateResource ?? []].flat();
  for (const validate of validations) await validate(args, (message) => reported.push(message));
  return reported;
}

/** Runs a stack policy on the given resources; returns the messages (with their URNs) it reported. */
export async function validateStack(
  policy: StackValidationPolicy,
  resources: PolicyResource[],
  config: Record<string, unknown> = {},
): Promise<{ message: string; urn?: string }[]> {
  const reported: { message: string; urn?: string }[] = [];
  const args = {
    resources,
    stackTags: new Map(),
    getConfig: () => config,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  } as unknown as StackValidationArgs;
  await policy.validateStack(args, (message, urn) => reported.push({ message, ...(urn ? { urn } : {}) }));
  return reported;
}

/**
 * Properties whose listed keys are unknown, as @pulumi/policy presents a preview's unknown values:
 * reading one throws its UnknownValueError (matched by name: the class is internal to the package).
 */
export function withUnknown(props: Record<string, unknown>, unknownKeys: string[]): Record<string, unknown> {
  class UnknownValueError extends Error {}
  return new Proxy(props, {
    get(target, key) {
      if (typeof key === "string" && unknownKeys.includes(key))
        throw new UnknownValueError(`${key} is unknown`);
      return Reflect.get(target, key);
    },
  });
}
