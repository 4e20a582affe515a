/** What the seven resource classes share: input types derived from the model, output registration, secrets. */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { CONNECTION, type ConnectionArgs } from "./connection.ts";
import { providerText } from "./shim.ts";

/**
 * A program value for a model field: the plain value, a promise or an Output — at any depth, so
 * `to: [user.address, "ops@example.com"]` works as Pulumi users expect.
 */
export type Arg<T> = pulumi.Input<DeepInput<T>>;

type DeepInput<T> = T extends readonly (infer U)[]
  ? Arg<U>[]
  : T extends Record<string, unknown>
    ? { [K in keyof T]: Arg<T[K]> }
    : T;

/** The inputs every mailplane resource has besides its model fields. */
export interface CommonArgs {
  /**
   * Take over an object that already exists on the platform instead of failing with "already
   * exists": create reads it, reports each field that differs from the declaration (as a
   * diagnostic) and converges it. `pulumi import` cannot work for dynamic providers
   * (pulumi/pulumi#16175); this is the way to bring existing objects under Pulumi. Singletons
   * (FilterSettings, PasswordPolicy) are always adopted. Default false.
   */
  adopt?: pulumi.Input<boolean>;
  /**
   * Where this resource lives, instead of the stack's `mailplane:endpoint`, `mailplane:token` and
   * `mailplane:account`: so one program manages several platforms or accounts (e.g. the domains of
   * an account made in the same program, with that account's new {@link ApiToken}). The whole object
   * is a secret in the state. Moving a resource to another endpoint or account replaces it; a new
   * token for the same place is an in-place change that calls nothing. Default: the stack's settings.
   */
  connection?: pulumi.Input<ConnectionArgs>;
}

/** The Pulumi type token of a kind: `pulumi-nodejs:dynamic/mailplane:Domain`. */
export const TYPE_MODULE = "mailplane";

/**
 * The base of the per-object resources: a dynamic resource (type `pulumi-nodejs:dynamic/mailplane:<kind>`,
 * run by Pulumi's dynamic-provider plugin) whose `__provider` is the kind's {@link providerText}, where
 * `pulumi.dynamic.Resource` would store its closure serializer's text, ten times the size. That is all
 * `pulumi.dynamic.Resource` adds to a `CustomResource`: the type token and the `__provider` input.
 * @example super("Alias", name, resourceProps(aliasKind, args), resourceOptions(aliasKind, opts))
 */
export class MailplaneResource extends pulumi.CustomResource {
  constructor(
    kind: string,
    name: string,
    props: Record<string, unknown>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      `pulumi-nodejs:dynamic/${TYPE_MODULE}:${kind}`,
      name,
      { ...props, __provider: providerText(kind) },
      opts,
    );
  }
}

/**
 * The property bag a resource registers: the declared inputs, plus every output of the kind's API
 * object set to `undefined`, because Pulumi only creates an Output property for keys in the bag.
 */
export function resourceProps(kind: KindDescriptor, args: object): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys((kind.object as unknown as z.ZodObject).shape)) props[key] = undefined;
  // `id` and `urn` are the resource's own; the object's ID is the resource ID. The stack stamp is
  // the platform's record, kept out of the state (see lifecycle.ts).
  delete props["id"];
  delete props["managedBy"];
  return secretConnection({ ...props, ...args });
}

/**
 * The property bag with its `connection` wrapped in `pulumi.secret`: secret as an input too, so the
 * engine encrypts it in the stored inputs, not only in the outputs.
 */
export function secretConnection(props: Record<string, unknown>): Record<string, unknown> {
  if (props[CONNECTION] === undefined) return props;
  return { ...props, [CONNECTION]: pulumi.secret(props[CONNECTION]) };
}

/**
 * The resource options of a kind: secret fields and the `connection` are secret outputs, so Pulumi
 * encrypts them in the state even when a program passed the value in plain text.
 */
export function resourceOptions(
  kind: KindDescriptor,
  opts: pulumi.CustomResourceOptions | undefined,
): pulumi.CustomResourceOptions {
  const extra = opts?.additionalSecretOutputs ?? [];
  return {
    ...opts,
    additionalSecretOutputs: [...new Set([...extra, ...kind.secretFields, CONNECTION])],
  };
}

/** Wraps a kind's write-only fields in `pulumi.secret`, so their inputs are encrypted in the state too. */
export function secretArgs<T extends object>(kind: KindDescriptor, args: T): T {
  const out = { ...args } as Record<string, unknown>;
  for (const field of kind.secretFields) {
    if (out[field] !== undefined) out[field] = pulumi.secret(out[field]);
  }
  return out as T;
}
