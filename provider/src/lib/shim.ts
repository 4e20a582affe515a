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
 * Parameters are typed contextually on purpose: the serializer keeps the function text as written, and
 * Node's type stripping leaves annotations behind as blanks, which would count against the ~2 KB that
 * every resource carries in its state.
 *
 * The dynamic-provider process loads this text with require-from-string, with the program directory as
 * its cwd, so the package name resolves from the program's node_modules (in the checkout, to the package
 * itself through its `exports`).
 */
export function createShim(kind: string): pulumi.dynamic.ResourceProvider {
  const call: Dispatch = async (m, a) => (await import("mailplane/provider-runtime")).call(kind, m, a);
  return {
    configure: (...a) => call("configure", a),
    check: (...a) => call("check", a),
    diff: (...a) => call("diff", a),
    create: (...a) => call("create", a),
    read: (...a) => call("read", a),
    update: (...a) => call("update", a),
    delete: (...a) => call("delete", a),
  };
}
