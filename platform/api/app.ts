/**
 * The control plane's fastify app, built but not listening (server.ts listens), so tests can inject().
 * Registration order: own plugins (validation, problem handling) → decorators →
 * hooks (auth, rate limit) → one route plugin per resource, all from the contract's route table.
 */

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from "fastify";
import { endpoints } from "../../sdk/src/index.ts";
import { consoleRoutes } from "../console/serve.ts";
import { PlatformMetrics } from "../metrics.ts";
import { packageRoot, packageVersion } from "../package-root.ts";
import type { DnsResolver } from "../smtp/content/spf.ts";
import { EgressPolicy } from "../smtp/delivery/egress.ts";
import type { SmtpOperations } from "../smtp/operations.ts";
import { CidrSet } from "../smtp/policy/matchers.ts";
import type { Store } from "../store/store.ts";
import { installAuth } from "./access/auth.ts";
import { redactResetTokens } from "./access/password-resets.ts";
import { type Argon2Params, DEFAULT_ARGON2 } from "./access/passwords.ts";
import { type DkimKey, ensureDkimKey } from "./domains/dns.ts";
import { systemResolver, verificationToken } from "./domains/domain-ownership.ts";
import { forwardedForTrust } from "./http/client-ip.ts";
import { REGISTERED } from "./http/endpoints.ts";
import { installProblemHandling, PROBLEM_MEDIA_TYPE, problem, sendProblem } from "./http/problem.ts";
import { answerClientError, answerFrameworkError, installClosingAnswer } from "./http/protocol-errors.ts";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./http/rate-limit.ts";
import { installValidation } from "./http/validation.ts";
import { accessRuleRoutes } from "./routes/access-rules.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { aliasRoutes } from "./routes/aliases.ts";
import { auditRoutes } from "./routes/audit.ts";
import { domainTenancyRoutes } from "./routes/domain-tenancy.ts";
import { domainRoutes } from "./routes/domains.ts";
import { filterSettingsRoutes } from "./routes/filter-settings.ts";
import { groupRoutes } from "./routes/groups.ts";
import { lockoutRoutes } from "./routes/lockouts.ts";
import { meRoutes } from "./routes/me.ts";
import { operationsRoutes } from "./routes/operations.ts";
import { passwordPolicyRoutes } from "./routes/password-policies.ts";
import { passwordResetRoutes } from "./routes/password-resets.ts";
import { platformRoutes } from "./routes/platform.ts";
import { reportSettingsRoutes } from "./routes/report-settings.ts";
import { reportRoutes } from "./routes/reports.ts";
import { routeRoutes } from "./routes/routes.ts";
import { senderListRoutes } from "./routes/sender-lists.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { userRoutes } from "./routes/users.ts";
import { type ApiServices, BackgroundWork } from "./services.ts";

export { packageRoot };

/** Options of {@link buildApp}. */
export interface AppOptions {
  store: Store;
  /** fastify/pino logger options; default off. Authorization headers and passwords are always redacted. */
  logger?: FastifyServerOptions["logger"];
  /** Clock for timestamps, token expiry and idempotency expiry; default `() => new Date()`. */
  now?: () => Date;
  /** Per-token rate limit; default {@link DEFAULT_RATE_LIMIT}; false disables it. */
  rateLimit?: RateLimitOptions | false;
  /** Host published as every domain's MX; default `mx.mailplane.test` (`mailplane serve` reads `MAILPLANE_MX_HOST`). */
  mxHost?: string;
  /** The DKIM key; default the store's (generated on first start). */
  dkim?: DkimKey;
  /** Seals the DKIM private key in the store (see `loadMasterKey`); default a random key for this process. */
  masterKey?: Buffer;
  /** DNS for domain ownership checks; default the system resolver (3 s timeout, 2 tries). Tests pass a table. */
  resolver?: DnsResolver;
  /** argon2id cost; default {@link DEFAULT_ARGON2}. */
  argon2?: Argon2Params;
  /** How long Idempotency-Key answers are replayed, in ms; default 24 h. */
  idempotencyTtlMs?: number;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** The OpenAPI document to serve; default `<package>/schema/openapi.json`. */
  openapiPath?: string;
  /** The SMTP engine running in this process (a getter: it may start after the app); operations answer 503 without it. */
  smtp?: () => SmtpOperations | undefined;
  /**
   * Where routes may point (`--allow-route-cidr`); default refuses every loopback, private,
   * link-local, multicast and other special-purpose address. Share the engine's, so both agree.
   */
  egress?: EgressPolicy;
  /**
   * The API's address as users reach it, the base of mailed links (`--public-url`); default
   * `http://localhost` (`startControlPlane` uses the address it listens on instead).
   */
  publicUrl?: string;
  /**
   * Reverse proxies (IP addresses or CIDR blocks) whose `X-Forwarded-Proto: https` counts as TLS for
   * `requireTlsForSignIn` and whose `X-Forwarded-For` names the client IP (`--trusted-proxies`);
   * default none: only a TLS socket counts, and the client IP is the TCP peer.
   */
  trustedProxies?: readonly string[];
  /** The Prometheus metrics served at `/metrics` (`mailplane serve` adds its engine's); default a registry of its own. */
  metrics?: PlatformMetrics;
}

/** Keys whose values never reach a log line. */
const REDACT = [
  "req.headers.authorization",
  'req.headers["idempotency-key"]',
  "*.password",
  "*.token",
  "body.password",
  // A user's own password change and one-time codes (request bodies are not logged; this is a backstop).
  "*.currentPassword",
  "*.newPassword",
  "*.code",
];

/**
 * A request URL as logged: the token of a release link (`/release/<token>`) and of a password reset link (`mpr_…`) are credentials and are
 * replaced by `[REDACTED]`.
 * @example loggedUrl("/release/r1.abc.def?x=1") // "/release/[REDACTED]?x=1"
 */
export function loggedUrl(url: string): string {
  // Reset tokens travel in the path of POST /v1/password-resets/{token}.
  return redactResetTokens(url.replace(/^\/release\/[^?#]*/, "/release/[REDACTED]"));
}

function loggerOptions(logger: FastifyServerOptions["logger"]): FastifyServerOptions["logger"] {
  if (!logger) return false;
  const base = logger === true ? {} : (logger as Record<string, unknown>);
  return {
    ...base,
    redact: { paths: REDACT, censor: "[REDACTED]" },
    serializers: {
      // Fastify's request fields, with the URL made safe to log.
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: loggedUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  } as FastifyServerOptions["logger"];
}

let requestCounter = 0;

/**
 * Builds the control plane's app on a store. The app does not own the store: closing the app leaves
 * the store open.
 *
 * @example
 * const app = await buildApp({ store: await openSqliteStore({ path: ":memory:" }) });
 * const res = await app.inject({ method: "GET", url: "/healthz" });
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const now = options.now ?? (() => new Date());
  const root = packageRoot();
  const version = packageVersion();
  const trustedProxies = new CidrSet(options.trustedProxies ?? []);
  const app = Fastify({
    logger: loggerOptions(options.logger),
    // request.ip is the client behind a trusted proxy (X-Forwarded-For), else the TCP peer.
    trustProxy: forwardedForTrust(trustedProxies),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // IDs and addresses can be 254 characters; find-my-way's default is 100.
    routerOptions: { maxParamLength: 512 },
    genReqId: () => `req_${process.pid.toString(36)}_${(++requestCounter).toString(36)}`,
    // Errors before routing are problem+json too: the router's (bad UTF-8, over-long segment), Node's
    // parser's (headers too large, bad framing, unknown method) and the answer while closing.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
    forceCloseConnections: "idle",
  });

  // Own plugins: validation and problem+json reach every route, so they sit on the root instance.
  installValidation(app);
  installProblemHandling(app);
  // JSON bodies; an empty one (a DELETE sent with a Content-Type) is no body rather than an error.
  // RFC 7396 merge patches are JSON documents too, so PATCH accepts both media types.
  const json = app.getDefaultJsonParser("error", "ignore");
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser(
    ["application/json", "application/merge-patch+json"],
    { parseAs: "string" },
    (request, body, done) => (body === "" ? done(null, undefined) : json(request, String(body), done)),
  );

  // Raw messages (spam/ham reports): bytes as sent; each such route sets its own body limit.
  app.addContentTypeParser("message/rfc822", { parseAs: "buffer" }, (_request, body, done) =>
    done(null, body),
  );

  // Decorators.
  // Without a data directory (tests on an in-memory store) sealed keys only live as long as the store.
  const masterKey = options.masterKey ?? randomBytes(32);
  const system = options.resolver ? undefined : systemResolver();
  if (system) app.addHook("onClose", async () => system.cancel());
  const services: ApiServices = {
    store: options.store,
    now,
    mxHost: options.mxHost ?? "mx.mailplane.test",
    dkim: options.dkim ?? (await ensureDkimKey(options.store, masterKey)),
    masterKey,
    resolver: options.resolver ?? system!,
    verificationToken,
    argon2: options.argon2 ?? DEFAULT_ARGON2,
    idempotencyTtlMs: options.idempotencyTtlMs ?? 24 * 3600 * 1000,
    version,
    openapiPath: options.openapiPath ?? join(root, "schema", "openapi.json"),
    egress: options.egress ?? new EgressPolicy(),
    publicUrl: (options.publicUrl ?? "http://localhost").replace(/\/+$/, ""),
    background: new BackgroundWork(),
    trustedProxies,
    metrics: options.metrics ?? new PlatformMetrics(),
  };
  services.metrics.attachStore(options.store);
  app.decorate("services", services);
  // Links being mailed are finished before the store closes under them.
  app.addHook("onClose", async () => services.background.idle());
  const registered = new Set<string>();
  app.decorate(REGISTERED as unknown as string, registered);

  // Hooks: the request ID first, so even a 401 carries it; then the 503 while closing.
  app.addHook("onRequest", async (request, reply) => {
    reply.header("request-id", request.id);
  });
  installClosingAnswer(app);
  // Counted by route pattern, never by the path itself (it holds domains and addresses).
  app.addHook("onResponse", async (request, reply) => {
    services.metrics.observeRequest(
      request.method,
      request.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  const limit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  installAuth(app, { store: options.store, now, rateLimiter: limit ? new RateLimiter(limit) : null });

  // Routes: one plugin per resource.
  await app.register(platformRoutes);
  await app.register(accountRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  await app.register(lockoutRoutes);
  await app.register(domainRoutes);
  await app.register(routeRoutes);
  await app.register(aliasRoutes);
  await app.register(senderListRoutes);
  await app.register(filterSettingsRoutes);
  await app.register(passwordPolicyRoutes);
  await app.register(userRoutes);
  await app.register(groupRoutes);
  await app.register(accessRuleRoutes);
  await app.register(reportSettingsRoutes);
  await app.register(domainTenancyRoutes);
  await app.register(operationsRoutes, { smtp: options.smtp });
  await app.register(sessionRoutes);
  await app.register(meRoutes, { smtp: options.smtp });
  await app.register(passwordResetRoutes, { smtp: options.smtp });
  await app.register(consoleRoutes);
  await app.register(reportRoutes, { smtp: options.smtp });
  registerMethodNotAllowed(app);
  await app.after();

  const missing = endpoints.filter((e) => !registered.has(e.operationId)).map((e) => e.operationId);
  if (missing.length > 0) throw new Error(`contract endpoints without a handler: ${missing.join(", ")}`);
  return app;
}

/** Known paths answer other methods with 405 and an Allow header (RFC 9110 §15.5.6), not 404. */
function registerMethodNotAllowed(app: FastifyInstance): void {
  const byPath = new Map<string, Set<string>>();
  for (const e of endpoints) {
    const methods = byPath.get(e.path) ?? new Set<string>();
    methods.add(e.method);
    byPath.set(e.path, methods);
  }
  for (const [path, methods] of byPath) {
    // RFC 9110 §15.5.6: a known path answers 405 with Allow for any method it lacks, OPTIONS and TRACE
    // too, and QUERY (a safe method with a body, draft-ietf-httpbis-safe-method-w-body) which Node parses.
    const others = (["GET", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "QUERY"] as const).filter(
      (m) => !methods.has(m),
    );
    if (others.length === 0) continue;
    const allow = [...methods, ...(methods.has("GET") ? ["HEAD"] : [])].join(", ");
    app.route({
      method: others,
      url: path,
      handler: async (request, reply) => {
        reply.header("allow", allow);
        return sendProblem(
          reply,
          request,
          problem("MP_METHOD_NOT_ALLOWED", `${request.method} is not allowed here; use ${allow}`),
        );
      },
    });
  }
}

export { PROBLEM_MEDIA_TYPE };
