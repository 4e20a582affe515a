/** The serialized half of every mailplane provider: a thin shim that loads the real implementation at run time. */
import * as pulumi from "@pulumi/pulumi";

/** The methods of a provider, in the order the shim text defines them. */
const METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"] as const;

/**
 * The `__provider` text of a kind for the program's stack: a CommonJS module whose `handler()` returns
 * the provider, as the dynamic-provider process loads it (require-from-string, then `.handler()`), with
 * the program directory as its cwd, so the package name resolves from the program's node_modules (in
 * the checkout, to the package itself through its `exports`).
 *
 * Written by hand rather than by Pulumi's closure serializer, because every resource stores this text
 * twice (in its inputs and its outputs) and the engine rewrites the whole state after each step: the
 * serializer wraps each of the nine functions of {@link createShim} in ~190 bytes (2.1 KB in all);
 * this text does the same in ~220. Every method imports `mailplane/provider-runtime` when it runs and
 * calls `call(kind, method, args, by)` — the contract the serialized shims of older versions also
 * call, which is why resources created by them keep working.
 * @example providerText("Alias") // 'exports.handler=()=>{…call("Alias",m,a,"mail/prod")…}'
 */
export function providerText(kind: string): string {
  const args = `${JSON.stringify(kind)},m,a,${JSON.stringify(stackOf())}`;
  return (
    `exports.handler=()=>{let p={};for(let m of${JSON.stringify(METHODS)})` +
    `p[m]=async(...a)=>(await import("mailplane/provider-runtime")).call(${args});return p}`
  );
}

// The declaring stack, as `<project>/<stack>`: known here, in the program, and not in the
// dynamic-provider process (the engine tells it the project, never the stack). Carried in the
// provider text, not in the inputs, so it never shows in a diff; the runtime stamps writes with it.
const stackOf = () => `${pulumi.getProject()}/${pulumi.getStack()}`;

/** The provider methods the dynamic-provider process calls; the runtime dispatches on these names. */
export type ShimMethod = (typeof METHODS)[number];

type Dispatch = (method: ShimMethod, args: unknown[]) => Promise<any>;

/**
 * The object Pulumi serializes into each resource's `__provider` state, for this kind and the
 * program's stack (made once per both). For resources that extend `pulumi.dynamic.Resource` (the
 * DomainTenancy); the per-object kinds store the smaller {@link providerText}.
 *
 * Every method forwards its arguments to `call(kind, method, args, by)` of `mailplane/provider-runtime`,
 * imported when the method runs. So the serialized closure holds the kind name and the stack's
 * `<project>/<stack>` (the stamp of what the provider writes) and nothing else: no
 * client, no token, no runtime module (a static import would copy the whole runtime into state). And
 * because the implementation is loaded from the installed package, `refresh` and `destroy` run the
 * installed code rather than the code of the day the resource was created.
 *
 * Written for size, because every resource carries this text in its state: the serializer wraps each
 * function in ~190 bytes of boilerplate, so the object has only the seven methods the engine calls
 * plus one dispatcher (`rt`, the runtime), and parameters are typed contextually (Node's type
 * stripping would leave annotations behind as blanks in the serialized text).
 *
 * The dynamic-provider process loads this text with require-from-string, with the program directory as
 * its cwd, so the package name resolves from the program's node_modules (in the checkout, to the package
 * itself through its `exports`).
 */
export function createShim(kind: string): pulumi.dynamic.ResourceProvider {
  // The declaring stack, as `<project>/<stack>`: known here, in the program, and not in the
  // dynamic-provider process (the engine tells it the project, never the stack). Carried in the
  // closure, not in the inputs, so it never shows in a diff; the runtime stamps writes with it.
  const by = stackOf();
  const key = `${kind}\u0000${by}`;
  let shim = shims.get(key);
  if (shim === undefined) {
    shim = makeShim(kind, by);
    shims.set(key, shim);
  }
  return shim;
}

// One shim per kind and stack, made once: Pulumi serializes it once per object (it caches by object).
const shims = new Map<string, pulumi.dynamic.ResourceProvider>();

function makeShim(kind: string, by: string): pulumi.dynamic.ResourceProvider {
  const rt: Dispatch = async (m, a) => (await import("mailplane/provider-runtime")).call(kind, m, a, by);
  return {
    configure: (...a) => rt("configure", a),
    check: (...a) => rt("check", a),
    diff: (...a) => rt("diff", a),
    create: (...a) => rt("create", a),
    read: (...a) => rt("read", a),
    update: (...a) => rt("update", a),
    delete: (...a) => rt("delete", a),
  };
}
