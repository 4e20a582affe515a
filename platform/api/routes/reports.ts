/** Report pages: the digests' one-click release links (`/release/:token`, no session) and the on-demand domain report. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Endpoint } from "../../../sdk/src/contract/types.ts";
import { REPORT_LANGUAGES, type ReportSettingsSpec } from "../../../sdk/src/models/report-settings.ts";
import { reportData, reportHtml } from "../../reports/domain-report.ts";
import { REPORT_WORDS, type ReportLanguage, releasePageLanguage } from "../../reports/language.ts";
import { type ReleaseGrant, releaseKey, verifyReleaseToken } from "../../reports/release-token.ts";
import { renderReportPdf } from "../../reports/report-pdf.ts";
import { RELEASE_PATH } from "../../reports/scheduler.ts";
import { escapeHtml, oneLine } from "../../reports/text.ts";
import type { SmtpOperations } from "../../smtp/operations.ts";
import { mayTouchDomain, requireAuth } from "../access/auth.ts";
import { normalisedParams } from "../http/endpoints.ts";
import { problem } from "../http/problem.ts";
import { parseWith } from "../http/validation.ts";

/** Options of {@link reportRoutes}. */
export interface ReportRoutesOptions {
  /** The engine running in this process, if any (a getter: the engine starts after the API). */
  smtp?: (() => SmtpOperations | undefined) | undefined;
}

/** Longest on-demand report period: 366 days. */
export const MAX_REPORT_DAYS = 366;

/** The query of the on-demand report. */
export const DomainReportQuery = z.strictObject({
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Start (inclusive), RFC 3339; default 7 days before `to`."),
  to: z.iso.datetime({ offset: true }).optional().describe("End (exclusive), RFC 3339; default now."),
  format: z.enum(["html", "pdf"]).default("html").describe("`html` (default) or `pdf`."),
  extraSpamTable: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true")
    .describe("Add the table of spam refused but not quarantined; default true."),
  language: z
    .enum(REPORT_LANGUAGES)
    .optional()
    .describe(
      "`en`, `de` or `fr`; default the domain's ReportSettings language (its own, else the account's), else `en`.",
    ),
});

/**
 * The on-demand report's place in the auth hook: read access, scoped to the domain like every
 * operations endpoint. It answers HTML or PDF rather than JSON, so it is not part of the JSON contract
 * (OpenAPI, the SDK client); docs/reports.md describes it.
 */
const REPORT_ENDPOINT: Endpoint = {
  operationId: "getDomainReport",
  method: "GET",
  path: "/v1/domains/:domain/report",
  summary: "Read the domain's protection report.",
  tag: "Operations",
  access: "read",
  response: null,
  successStatuses: [200],
  headers: { ifMatch: "none", idempotencyKey: "none", account: "optional" },
  etag: false,
  errors: ["MP_NOT_FOUND", "MP_VALIDATION_FAILED"],
};

/** A small, self-contained HTML page in `language`: nothing loaded from elsewhere, no script, not framed, not indexed. */
function page(
  reply: FastifyReply,
  status: number,
  title: string,
  body: string,
  language: ReportLanguage,
): FastifyReply {
  return (
    reply
      .code(status)
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", "no-store")
      // The token is in the URL: it must not leave in a Referer header, and no other site may frame the button.
      .header("referrer-policy", "no-referrer")
      .header("content-security-policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
      .header("x-frame-options", "DENY")
      .header("x-robots-tag", "noindex")
      .send(
        `<!doctype html>\n<html lang="${REPORT_WORDS[language].tag}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>\n`,
      )
  );
}

/**
 * The release-link pages and the on-demand domain report.
 *
 * `GET /release/:token` shows what the link releases and a button (a POST form): link scanners and
 * previews that follow GETs release nothing. `POST /release/:token` releases that message to that
 * recipient only, once: a second POST finds nothing held for them and delivers nothing. Tokens are
 * checked (HMAC, expiry) before anything is read; the token itself is never logged or audited (the
 * app's request serializer hides it).
 *
 * @example app.register(reportRoutes, { smtp: () => engine?.operations })
 */
export async function reportRoutes(app: FastifyInstance, opts: ReportRoutesOptions): Promise<void> {
  const { store, now } = app.services;
  const key = releaseKey(app.services.masterKey);
  // The confirmation form posts an empty urlencoded body; only this plugin accepts that media type.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 1024 },
    (_r, _b, done) => done(null, undefined),
  );

  /** The grant of the path's token and what it names now; a page answer when it names nothing. */
  const resolve = (request: FastifyRequest, reply: FastifyReply, language: ReportLanguage) => {
    const w = REPORT_WORDS[language].releasePage;
    const token = (request.params as { token?: string }).token ?? "";
    const grant = verifyReleaseToken(key, token, now().getTime());
    if ("refused" in grant) {
      const status = grant.refused === "expired" ? 410 : 403;
      return { answer: page(reply, status, w.invalidTitle, `<p>${escapeHtml(w.invalidText)}</p>`, language) };
    }
    const ops = opts.smtp?.();
    if (!ops) {
      return { answer: page(reply, 503, w.laterTitle, `<p>${escapeHtml(w.laterText)}</p>`, language) };
    }
    return { grant, ops };
  };
  const ownerOf = (g: ReleaseGrant) => ({
    accountId: g.accountId,
    domain: g.domain,
    generation: g.generation,
  });
  const heldFor = (ops: SmtpOperations, g: ReleaseGrant) => {
    const entry = ops.getQuarantined(g.message, ownerOf(g));
    return entry?.recipients.some((r) => r.toLowerCase() === g.recipient) ? entry : undefined;
  };
  /** The page of "nothing held for you", in the page's language. */
  const nothing = (reply: FastifyReply, language: ReportLanguage) => {
    const w = REPORT_WORDS[language].releasePage;
    return page(reply, 200, w.nothingTitle, `<p>${escapeHtml(w.nothingText)}</p>`, language);
  };

  app.get(`${RELEASE_PATH}:token`, async (request, reply) => {
    const language = releasePageLanguage(request.query);
    const words = REPORT_WORDS[language];
    const w = words.releasePage;
    const r = resolve(request, reply, language);
    if (r.answer) return r.answer;
    const entry = heldFor(r.ops, r.grant);
    if (!entry) return nothing(reply, language);
    return page(
      reply,
      200,
      w.confirmTitle,
      [
        `<p>${escapeHtml(w.heldFor)} <strong>${escapeHtml(r.grant.recipient)}</strong>:</p>`,
        "<dl>",
        `<dt>${escapeHtml(words.from)}</dt><dd>${escapeHtml(oneLine(entry.sender || words.nullSender))}</dd>`,
        `<dt>${escapeHtml(words.subject)}</dt><dd>${escapeHtml(oneLine(entry.subject || words.noSubject))}</dd>`,
        `<dt>${escapeHtml(w.received)}</dt><dd>${escapeHtml(entry.receivedAt)}</dd>`,
        `<dt>${escapeHtml(w.spamScore)}</dt><dd>${entry.score.toFixed(2)}</dd>`,
        "</dl>",
        // An empty action posts back to this very URL (its ?lang= too).
        `<form method="post"><button type="submit">${escapeHtml(w.button)}</button></form>`,
      ].join("\n"),
      language,
    );
  });

  app.post(`${RELEASE_PATH}:token`, async (request, reply) => {
    const language = releasePageLanguage(request.query);
    const w = REPORT_WORDS[language].releasePage;
    const r = resolve(request, reply, language);
    if (r.answer) return r.answer;
    const { grant, ops } = r;
    let queueId: string | undefined;
    try {
      queueId = await ops.releaseQuarantinedTo(grant.message, ownerOf(grant), grant.recipient);
    } catch (error) {
      if ((error as { code?: string }).code !== "MP_CONFLICT") throw error;
      return page(reply, 409, w.notReleasedTitle, `<p>${escapeHtml(w.notReleasedText)}</p>`, language);
    }
    if (!queueId) return nothing(reply, language);
    await store.recordAudit(
      {
        accountId: grant.accountId,
        action: "release",
        kind: "User",
        objectId: grant.recipient,
        after: { message: grant.message, queueId, via: "digest-link" },
      },
      // The link is the credential; the entry names it, never its token.
      { actor: "release-link", role: null, requestId: request.id },
    );
    return page(reply, 200, w.releasedTitle, `<p>${escapeHtml(w.releasedText)}</p>`, language);
  });

  app.get(REPORT_ENDPOINT.path, { config: { endpoint: REPORT_ENDPOINT } }, async (request, reply) => {
    const auth = requireAuth(request);
    const { domain } = normalisedParams(request);
    const stored =
      domain && mayTouchDomain(auth, domain)
        ? await store.getObject(auth.accountId, "Domain", domain)
        : undefined;
    if (!domain || !stored) throw problem("MP_NOT_FOUND", `no domain ${JSON.stringify(domain)}`);
    const q = parseWith(DomainReportQuery, request.query, "query");
    const to = q.to ? new Date(q.to) : now();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 7 * 86_400_000);
    if (from >= to || to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000) {
      throw problem("MP_VALIDATION_FAILED", `from must be before to, at most ${MAX_REPORT_DAYS} days apart`, {
        errors: [
          {
            path: ["from"],
            code: "custom",
            message: `must be before to, at most ${MAX_REPORT_DAYS} days before it`,
            in: "query",
          },
        ],
      });
    }
    const ops = opts.smtp?.();
    if (!ops) throw problem("MP_UNAVAILABLE", "no SMTP engine runs in this process");
    const settings =
      (await store.getObject(auth.accountId, "ReportSettings", `${domain}/report-settings`)) ??
      (await store.getObject(auth.accountId, "ReportSettings", "account/report-settings"));
    const language = q.language ?? (settings?.spec as ReportSettingsSpec | undefined)?.language ?? "en";
    const data = await reportData(
      ops,
      { accountId: auth.accountId, domain, generation: stored.generation },
      {
        from: from.toISOString(),
        to: to.toISOString(),
        timezone: (stored.spec as { timezone?: string }).timezone ?? "UTC",
        extraSpamTable: q.extraSpamTable,
        language,
      },
    );
    reply.header("cache-control", "no-store");
    if (q.format === "pdf") {
      return reply
        .header("content-type", "application/pdf")
        .header("content-disposition", `attachment; filename="protection-report-${domain}.pdf"`)
        .send(await renderReportPdf(data));
    }
    return reply
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
      .send(reportHtml(data));
  });
}
