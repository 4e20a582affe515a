/** The `sessions` and `passwordResets` groups of MailplaneClient: a mail user's sign-in, and a lost password's reset. */
import type { LostPasswordHelp, PasswordResetAccepted, Session, SignIn } from "../../models/session.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.sessions`: a mail user's sign-in. `create` needs no token; the others take the session's token.
 * @example const session = await client.sessions.create({ address: "alice@example.com", password });
 */
export function sessionsApi(api: ContractCaller) {
  return {
    create: (body: SignIn, options?: RequestOptions): Promise<Session> =>
      api.call("createSession", {}, { ...options, body }),
    secondFactor: (code: string, options?: RequestOptions): Promise<Session> =>
      api.call("completeSecondFactor", {}, { ...options, body: { code } }),
    /** Signs out: the session's token stops working. */
    delete: (options?: RequestOptions): Promise<void> => api.call("deleteSession", {}, options),
    /** What to do about a lost password for `address`, and whether self-service reset is offered. No token needed. */
    lostPassword: (address: string, options?: RequestOptions): Promise<LostPasswordHelp> =>
      api.call("getLostPasswordHelp", {}, { ...options, query: { address } }),
  };
}

/** The type of `client.sessions`. */
export type SessionsApi = ReturnType<typeof sessionsApi>;

/**
 * `client.passwordResets`: self-service password reset; no token needed.
 * @example await client.passwordResets.request("alice@example.com");
 */
export function passwordResetsApi(api: ContractCaller) {
  return {
    request: (address: string, options?: RequestOptions): Promise<PasswordResetAccepted> =>
      api.call("requestPasswordReset", {}, { ...options, body: { address } }),
    complete: (token: string, password: string, options?: RequestOptions): Promise<void> =>
      api.call("completePasswordReset", { token }, { ...options, body: { password } }),
  };
}

/** The type of `client.passwordResets`. */
export type PasswordResetsApi = ReturnType<typeof passwordResetsApi>;
