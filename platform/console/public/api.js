/** The console's API calls: JSON over fetch to the same origin, the bearer kept by app.js. */

/** An API answer of 400 or more: its problem+json `code`, `detail` and field `errors`. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? "";
    /** The problem's field errors: `{ path, code, message }` each (the field named by `path`). */
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
  }
}

/**
 * Calls the API. `query` values that are empty are left out; `account` sends Mailplane-Account.
 * @example await call("GET", "/v1/me/quarantine", { token, query: { subject: "invoice" } })
 */
export async function call(method, path, { token, account, body, query } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const headers = { accept: "application/json, application/problem+json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (account) headers["mailplane-account"] = account;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}
