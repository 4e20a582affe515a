/**
 * The `__provider` text the per-object resources stored up to the hand-written one (shim.ts): Pulumi's
 * closure serializer's rendering of the old shim (seven methods and a dispatcher, ~2.1 KB), as
 * `pulumi stack export` showed it, with the kind and the stack stamp filled in. For the upgrade test.
 */

const TEMPLATE =
  'exports.handler = __f0;\n\nvar __provider = {configure: __f1, check: __f3, diff: __f4, create: __f5, read: __f6, update: __f7, delete: __f8};\n\nfunction __f2(__0, __1) {\n  return (function() {\n    with({ kind: KIND, by: BY, this: undefined, arguments: undefined }) {\n\nreturn async (m, a) => (await import("mailplane/provider-runtime")).call(kind, m, a, by);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f1() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("configure", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f3() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("check", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f4() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("diff", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f5() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("create", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f6() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("read", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f7() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("update", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f8() {\n  return (function() {\n    with({ rt: __f2, this: undefined, arguments: undefined }) {\n\nreturn (...a) => rt("delete", a);\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n\nfunction __f0() {\n  return (function() {\n    with({ provider: __provider, this: undefined, arguments: undefined }) {\n\nreturn () => provider;\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n';

/**
 * The old serialized provider of `kind` for the stack `by` (`<project>/<stack>`).
 * @example legacyProviderText("Alias", "mailplane-e2e-tenancy/upgrade-1")
 */
export function legacyProviderText(kind: string, by: string): string {
  return TEMPLATE.replace("kind: KIND, by: BY", `kind: ${JSON.stringify(kind)}, by: ${JSON.stringify(by)}`);
}
