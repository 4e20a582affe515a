/** The stack stamp of the running provider call: which Pulumi project and stack declare what it writes. */
import { AsyncLocalStorage } from "node:async_hooks";
import { ManagedBy } from "../../../sdk/src/models/managed-by.ts";

// Per call, not per process: the engine runs many resources' calls at once in one provider process,
// and a resource created by an older version of the package carries no stack in its shim.
const current = new AsyncLocalStorage<ManagedBy | undefined>();

/**
 * The stamp of a shim's `<project>/<stack>`, or undefined when it names none that is valid (an
 * older shim, or a program run outside a stack).
 * @example stampOf("mail/prod") // { tool: "pulumi", project: "mail", stack: "prod" }
 */
export function stampOf(by: string | undefined): ManagedBy | undefined {
  if (by === undefined) return undefined;
  const slash = by.indexOf("/");
  if (slash < 0) return undefined;
  const parsed = ManagedBy.safeParse({
    tool: "pulumi",
    project: by.slice(0, slash),
    stack: by.slice(slash + 1),
  });
  return parsed.success ? parsed.data : undefined;
}

/**
 * Runs one provider call with its stack's stamp, which {@link currentStamp} answers inside it.
 * @example await withStamp("mail/prod", () => impl.create(inputs))
 */
export function withStamp<T>(by: string | undefined, run: () => Promise<T>): Promise<T> {
  return current.run(stampOf(by), run);
}

/**
 * The running call's stamp as request options (`{ managedBy }`), or `{}`: every create and update
 * the provider sends carries it, so the platform records which stack declares the object.
 * @example client.request("PATCH", path, { body, ...stampOption() })
 */
export function stampOption(): { managedBy?: ManagedBy } {
  const stamp = current.getStore();
  return stamp === undefined ? {} : { managedBy: stamp };
}
