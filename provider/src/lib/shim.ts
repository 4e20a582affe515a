/** The serialized half of every mailplane provider: a thin shim that loads the real implementation at run time. */
import type * as pulumi from "@pulumi/pulumi";

/** The provider methods the dynamic-provider process calls; the runtime dispatches on these names. */
export type ShimMethod = "configure" | "check" | "diff" | "create" | "read" | "update" | "delete";

type Dispatch = (method: ShimMethod, args: unknown[]) => Promise<any>;

/**
 * Builds the object Pulumi serializes into each resource's `__provider` state.
 *
 * Every method forwards its arguments to `call(kind, method, args)` of `mailplane/provider-runtime`,
 * imported when the method runs. So the serialized closure holds the kind name and nothing else: no
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
  const rt: Dispatch = async (m, a) => (await import("mailplane/provider-runtime")).call(kind, m, a);
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
