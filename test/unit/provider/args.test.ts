/** The resource classes stay in step with the model: every input is typed from it and documented with its description. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import type * as mailplane from "../../../provider/src/index.ts";
import type {
  AliasSpecInput,
  DomainSpecInput,
  FilterSettingsSpecInput,
  PasswordPolicySpecInput,
  RouteSpecInput,
  SenderListSpecInput,
  UserSpecInput,
} from "../../../sdk/src/models/index.ts";
import { tenancyKinds } from "../../../sdk/src/models/kinds.ts";

const resourcesDir = join(dirname(fileURLToPath(import.meta.url)), "../../../provider/src/resources");

/** The description of a model field, looking through `.default()`/`.optional()` wrappers. */
function descriptionOf(field: z.ZodType): string | undefined {
  let schema: z.ZodType | undefined = field;
  while (schema !== undefined) {
    const text = z.globalRegistry.get(schema)?.description ?? schema.description;
    if (text) return text;
    schema = (schema._zod.def as { innerType?: z.ZodType }).innerType;
  }
  return undefined;
}

/** The `/** … *\/` comment above each property of `export interface <Name>Args`, whitespace collapsed. */
function argsDocs(source: string, name: string): Map<string, string> {
  const body = new RegExp(`export interface ${name}Args extends CommonArgs \\{([\\s\\S]*?)\\n\\}`).exec(
    source,
  )?.[1];
  if (body === undefined) throw new Error(`no ${name}Args interface`);
  const docs = new Map<string, string>();
  for (const match of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+)\??:/g)) {
    docs.set(
      match[2]!,
      match[1]!
        .replace(/^\s*\*\s?/gm, " ")
        .replace(/\s+/g, " ")
        .trim(),
    );
  }
  return docs;
}

const fileOf = (kind: string) => kind.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();

describe("resource inputs", () => {
  for (const kind of tenancyKinds) {
    it(`${kind.name}Args documents every model field with the model's description`, () => {
      const source = readFileSync(join(resourcesDir, `${fileOf(kind.name)}.ts`), "utf8");
      const docs = argsDocs(source, kind.name);
      const shape = (kind.spec as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
      expect([...docs.keys()].sort()).toEqual(Object.keys(shape).sort());
      for (const [field, schema] of Object.entries(shape)) {
        expect(docs.get(field), `${kind.name}.${field}`).toBe(descriptionOf(schema));
      }
    });
  }

  it("types every input from the model: same names, same optionality, plus adopt and connection", () => {
    type Provider = "adopt" | "connection";
    type Optional<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
    expectTypeOf<keyof mailplane.DomainArgs>().toEqualTypeOf<keyof DomainSpecInput | Provider>();
    expectTypeOf<Optional<mailplane.DomainArgs>>().toEqualTypeOf<Optional<DomainSpecInput> | Provider>();
    expectTypeOf<keyof mailplane.RouteArgs>().toEqualTypeOf<keyof RouteSpecInput | Provider>();
    expectTypeOf<Optional<mailplane.RouteArgs>>().toEqualTypeOf<Optional<RouteSpecInput> | Provider>();
    expectTypeOf<keyof mailplane.AliasArgs>().toEqualTypeOf<keyof AliasSpecInput | Provider>();
    expectTypeOf<Optional<mailplane.AliasArgs>>().toEqualTypeOf<Optional<AliasSpecInput> | Provider>();
    expectTypeOf<keyof mailplane.SenderListArgs>().toEqualTypeOf<keyof SenderListSpecInput | Provider>();
    expectTypeOf<Optional<mailplane.SenderListArgs>>().toEqualTypeOf<
      Optional<SenderListSpecInput> | Provider
    >();
    expectTypeOf<keyof mailplane.FilterSettingsArgs>().toEqualTypeOf<
      keyof FilterSettingsSpecInput | Provider
    >();
    expectTypeOf<Optional<mailplane.FilterSettingsArgs>>().toEqualTypeOf<
      Optional<FilterSettingsSpecInput> | Provider
    >();
    expectTypeOf<keyof mailplane.PasswordPolicyArgs>().toEqualTypeOf<
      keyof PasswordPolicySpecInput | Provider
    >();
    expectTypeOf<Optional<mailplane.PasswordPolicyArgs>>().toEqualTypeOf<
      Optional<PasswordPolicySpecInput> | Provider
    >();
    expectTypeOf<keyof mailplane.UserArgs>().toEqualTypeOf<keyof UserSpecInput | Provider>();
    expectTypeOf<Optional<mailplane.UserArgs>>().toEqualTypeOf<Optional<UserSpecInput> | Provider>();
  });

  it("accepts Outputs at any depth, as Pulumi programs pass them", () => {
    type To = mailplane.AliasArgs["action"];
    expectTypeOf<{ type: "forward"; to: [import("@pulumi/pulumi").Output<string>, string] }>().toExtend<To>();
  });
});
