/** The `me` group of MailplaneClient: the signed-in mail user's own password, second factor, app passwords, quarantine and logs. */
import type {
  MessageLogEntry,
  MessageLogQueryInput,
  QuarantinedMessage,
  QuarantineEntry,
  QuarantineQueryInput,
} from "../../contract/operations.ts";
import type { LoginAuditEntry, MyLoginAuditQuery } from "../../models/login-audit.ts";
import type { Page } from "../../models/page.ts";
import type {
  AppPassword,
  AppPasswordCreated,
  AppPasswordSpec,
  Me,
  Session,
  TotpEnrolment,
} from "../../models/session.ts";
import type { RequestOptions } from "../options.ts";
import { type ContractCaller, withReportQuery } from "./caller.ts";

/**
 * `client.me`: the signed-in mail user's own data, through a client made with a session's token.
 * @example const me = await client.me.get();
 */
export function meApi(api: ContractCaller) {
  return {
    get: (options?: RequestOptions): Promise<Me> => api.call("getMe", {}, options),
    changePassword: (
      currentPassword: string,
      newPassword: string,
      options?: RequestOptions,
    ): Promise<Session> =>
      api.call("changeMyPassword", {}, { ...options, body: { currentPassword, newPassword } }),
    enrolTotp: (options?: RequestOptions): Promise<TotpEnrolment> => api.call("enrolTotp", {}, options),
    confirmTotp: (code: string, options?: RequestOptions): Promise<Session> =>
      api.call("confirmTotp", {}, { ...options, body: { code } }),
    removeTotp: (code: string, options?: RequestOptions): Promise<void> =>
      api.call("removeTotp", {}, { ...options, body: { code } }),
    listAppPasswords: (options?: RequestOptions): Promise<Page<AppPassword>> =>
      api.call("listAppPasswords", {}, options),
    createAppPassword: (spec: AppPasswordSpec, options?: RequestOptions): Promise<AppPasswordCreated> =>
      api.call("createAppPassword", {}, { ...options, body: spec }),
    revokeAppPassword: (id: string, options?: RequestOptions): Promise<void> =>
      api.call("revokeAppPassword", { appPassword: id }, options),
    listQuarantine: (
      query: QuarantineQueryInput = {},
      options?: RequestOptions,
    ): Promise<Page<QuarantineEntry>> => api.call("listMyQuarantine", {}, { ...options, query }),
    getQuarantined: (id: string, options?: RequestOptions): Promise<QuarantinedMessage> =>
      api.call("getMyQuarantinedMessage", { message: id }, options),
    /**
     * Releases a held message to the user's own addresses (others' copies stay held). `report: "ham"`
     * ("not spam") first teaches rspamd's Bayes classifier that it is ham (MP_FILTER_TRAINING_UNAVAILABLE
     * without rspamd, MP_UNAVAILABLE when rspamd refuses: it stays held).
     * @example await client.me.release(id, { report: "ham" })
     */
    release: (
      id: string,
      options?: RequestOptions & { report?: "ham" },
    ): Promise<{ id: string; queueId: string }> =>
      api.call("releaseMyQuarantinedMessage", { message: id }, withReportQuery(options)),
    /**
     * Deletes a held message for the user's own addresses (others' copies stay held). `report: "spam"`
     * ("delete and report as spam") first teaches rspamd's Bayes classifier that it is spam
     * (MP_FILTER_TRAINING_UNAVAILABLE without rspamd, MP_UNAVAILABLE when rspamd refuses: it stays held).
     * @example await client.me.deleteQuarantined(id, { report: "spam" })
     */
    deleteQuarantined: (id: string, options?: RequestOptions & { report?: "spam" }): Promise<void> =>
      api.call("deleteMyQuarantinedMessage", { message: id }, withReportQuery(options)),
    searchLog: (query: MessageLogQueryInput = {}, options?: RequestOptions): Promise<Page<MessageLogEntry>> =>
      api.call("searchMyMessageLog", {}, { ...options, query }),
    /** The user's own sign-ins and SMTP AUTH attempts, newest first. */
    loginAudit: (query: MyLoginAuditQuery = {}, options?: RequestOptions): Promise<Page<LoginAuditEntry>> =>
      api.call("listMyLoginAudit", {}, { ...options, query }),
  };
}

/** The type of `client.me`. */
export type MeApi = ReturnType<typeof meApi>;
