/**
 * The errors raised before a request reaches a route — Node's HTTP parser, fastify's router, a server
 * shutting down — answered as problem+json like every other error, never echoing the request.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { MailplaneError } from "../../../sdk/src/index.ts";
import { PROBLEM_MEDIA_TYPE, problem, sendProblem } from "./problem.ts";

/**
 * The problem for an error of Node's HTTP server (`clientError`): the request could not be parsed,
 * so no route, no request ID and no URL. Only the parser's code is named (never the bytes received).
 *
 * @example clientErrorProblem(Object.assign(new Error(), { code: "HPE_HEADER_OVERFLOW" })).status // 431
 */
export function clientErrorProblem(error: { code?: unknown }): MailplaneError {
  const code = typeof error.code === "string" ? error.code : "unknown";
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return problem(
        "MP_HEADERS_TOO_LARGE",
        "the request line and headers exceed the server's limit (16 KiB); shorten the path or the headers",
      );
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return problem("MP_REQUEST_TIMEOUT", "the request's headers or body did not arrive in time");
    case "HPE_INVALID_METHOD":
      // RFC 9110 §9.1: an unrecognised method is 501.
      return problem("MP_NOT_IMPLEMENTED", "the request method is not one this API implements");
    default:
      return problem("MP_BAD_REQUEST", `the request is not valid HTTP/1.1 (${code.slice(0, 40)})`);
  }
}

/**
 * The raw HTTP/1.1 response for a client error: problem+json, `Connection: close` (the parser's
 * state is lost, the connection cannot carry another request).
 */
export function rawProblemResponse(error: MailplaneError): string {
  const body = JSON.stringify(error.problem);
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}`,
    `Content-Type: ${PROBLEM_MEDIA_TYPE}; charset=utf-8`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

/**
 * fastify's `clientErrorHandler`: writes the problem and closes the connection. A reset connection
 * (or one already gone) gets nothing: there is nobody to answer.
 */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Duplex,
): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const answer = clientErrorProblem(error);
  this.log.debug({ code: error.code, status: answer.status }, "client error");
  if (socket.writable) socket.end(rawProblemResponse(answer));
  else socket.destroy();
}

/**
 * fastify's `frameworkErrors`: the router's refusals before any route runs — a path that is not
 * valid percent-encoded UTF-8 (400), a path segment over `maxParamLength` (414).
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  switch (error.code) {
    case "FST_ERR_BAD_URL":
      return sendProblem(
        reply,
        request,
        problem("MP_BAD_REQUEST", "the path is not valid percent-encoded UTF-8 (RFC 3986 §2.1)"),
      );
    case "FST_ERR_MAX_PARAM_LENGTH":
      return sendProblem(
        reply,
        request,
        problem("MP_URI_TOO_LONG", "a path segment is longer than the server accepts (512 characters)"),
      );
    default:
      request.log.error({ err: error }, "router error");
      return sendProblem(reply, request, problem("MP_INTERNAL", "the server failed to route the request"));
  }
}

/**
 * While the app closes, requests still arriving (pipelined or on a busy keep-alive connection) get
 * 503 MP_UNAVAILABLE with Retry-After and `Connection: close`, as problem+json (fastify's own
 * `return503OnClosing` answers plain JSON, so the app turns that off and installs this).
 *
 * @example installClosingAnswer(app) // before any other onRequest hook
 */
export function installClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    reply.header("connection", "close");
    throw problem(
      "MP_UNAVAILABLE",
      "the server is shutting down; another node (or this one, restarted) answers",
      {
        retryAfterSeconds: 1,
      },
    );
  });
}
