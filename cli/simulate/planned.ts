/** The planned tenancy: the live one with the steps of `pulumi preview --json` applied, object by object. */
import type { z } from "zod";
import { AccountSpec } from "../../sdk/src/models/account.ts";
import { type KindDescriptor, tenancyKinds } from "../../sdk/src/models/kinds.ts";
import type { TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import type { PreviewJson } from "../plan-summary.ts";

type Spec = Record<string, unknown>;
type Step = NonNullable<PreviewJson["steps"]>[number];

/** What Pulumi puts where a value is known only once `up` runs (a computed output of another resource). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A step that could not be applied to the planned tenancy, and why. */
export interface SkippedStep {
  urn: string;
  reason: string;
}

/** The result of {@link applyPreview}. */
export interface PlannedTenancy {
  manifest: TenancyManifest;
  /** The steps that changed the tenancy, as `op Kind id` (e.g. `delete Alias joe@example.org`). */
  applied: string[];
  skipped: SkippedStep[];
  /** Accounts the preview creates or updates (a platform admin's program), with their planned contact. */
  accountContacts: Map<string, string | null>;
}

/** `pulumi-nodejs:dynamic/mailplane:SenderList` → the SenderList kind; undefined for anything else. */
function kindOfType(type: string | undefined): KindDescriptor | undefined {
  const match = /(?:^|[/:])mailplane:([A-Za-z]+)$/.exec(type ?? "");
  return match ? tenancyKinds.find((k) => k.name === match[1]) : undefined;
}

function typeOfUrn(urn: string): string {
  return urn.split("::")[2]?.split("$").at(-1) ?? "";
}

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN_VALUE) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * What a step does to the platform's objects. A `discard` only forgets the object in Pulumi's state
 * (the platform keeps it); `same`, `read`, `refresh` and `import` change nothing.
 */
function effectOf(op: string): { remove: boolean; add: boolean } {
  switch (op) {
    case "create":
    case "create-replacement":
      return { remove: false, add: true };
    case "update":
    case "replace":
      return { remove: true, add: true };
    case "delete":
    case "delete-replaced":
      return { remove: true, add: false };
    default:
      return { remove: false, add: false };
  }
}

/**
 * Applies the create, update, replace and delete steps of a preview to a copy of `live`, matching
 * objects by their ID (the kind's key fields: a Route by domain and host:port, an Alias by address,
 * a singleton by scope). New states are normalised by the kind's zod schema, as the provider's
 * `check` does. A deleted singleton (filter settings, password policy) goes back to its defaults,
 * which is what leaving it out of the manifest means. Steps of other types are ignored; a step
 * whose new inputs hold values known only at `up`, or that the model refuses, is skipped and
 * reported, leaving the object as it is live.
 *
 * @example
 * const { manifest, skipped } = applyPreview(live, JSON.parse(previewText));
 */
export function applyPreview(live: TenancyManifest, preview: PreviewJson): PlannedTenancy {
  const manifest = structuredClone(live) as TenancyManifest;
  const collections = manifest as unknown as Record<string, Spec[]>;
  const applied: string[] = [];
  const skipped: SkippedStep[] = [];
  const accountContacts = new Map<string, string | null>();
  // --show-replacement-steps sends a replace three times (create-replacement, replace,
  // delete-replaced); the replace step alone says it all.
  const folded = new Set((preview.steps ?? []).filter((s) => s.op === "replace").map((s) => s.urn));
  for (const step of preview.steps ?? []) {
    if ((step.op === "create-replacement" || step.op === "delete-replaced") && folded.has(step.urn)) continue;
    const type = step.newState?.type ?? step.oldState?.type ?? typeOfUrn(step.urn);
    const effect = effectOf(step.op);
    if (/(?:^|[/:])mailplane:Account$/.test(type) && effect.add) {
      // The account's contact routes its domains' reserved addresses (postmaster@, abuse@).
      const inputs = step.newState?.inputs ?? {};
      const account = AccountSpec.safeParse(inputs);
      if (containsUnknown(inputs)) {
        skipped.push({ urn: step.urn, reason: "its new inputs are known only at `pulumi up`" });
      } else if (!account.success) {
        skipped.push({ urn: step.urn, reason: "the model refuses its inputs" });
      } else accountContacts.set(account.data.id, account.data.contact ?? null);
      continue;
    }
    const kind = kindOfType(type);
    if (!kind || (!effect.add && !effect.remove)) continue;
    collections[kind.plural] ??= [];
    const list = collections[kind.plural]!;
    let before: Spec | undefined;
    let after: Spec | undefined;
    try {
      before = effect.remove ? stateSpec(kind, step.oldState) : undefined;
      if (effect.add) {
        if (containsUnknown(step.newState?.inputs)) {
          skipped.push({ urn: step.urn, reason: "its new inputs are known only at `pulumi up`" });
          continue;
        }
        after = stateSpec(kind, step.newState);
      }
    } catch (err) {
      skipped.push({ urn: step.urn, reason: (err as Error).message });
      continue;
    }
    if (before) {
      const id = kind.id(before as never);
      const at = list.findIndex((s) => kind.id(s as never) === id);
      if (at >= 0) list.splice(at, 1);
    }
    if (after) {
      const id = kind.id(after as never);
      const at = list.findIndex((s) => kind.id(s as never) === id);
      if (at >= 0) list.splice(at, 1, after);
      else list.push(after);
    }
    applied.push(`${step.op} ${kind.name} ${kind.id((after ?? before) as never)}`);
  }
  return { manifest, applied, skipped, accountContacts };
}

/** A step state's spec: its inputs (the declaration), normalised by the kind's schema. */
function stateSpec(kind: KindDescriptor, state: Step["oldState"]): Spec {
  const inputs = state?.inputs;
  if (!inputs) throw new Error(`the preview shows no inputs for this ${kind.name}`);
  const fields = Object.keys((kind.spec as unknown as z.ZodObject).shape);
  const picked: Spec = {};
  // Write-only fields (a User's password) never matter to mail flow and are masked in previews.
  for (const field of fields) {
    if (!kind.secretFields.includes(field) && inputs[field] !== undefined) picked[field] = inputs[field];
  }
  const parsed = kind.spec.safeParse(picked);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`the model refuses its inputs (${issues})`);
  }
  return parsed.data as Spec;
}
