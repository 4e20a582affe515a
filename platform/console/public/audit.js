/** The login audit pages: a domain's sign-in attempts (administrators) and the user's own. */
import { api, failure } from "./app.js";
import { field, h, table, when } from "./dom.js";
import { dateRange, filters } from "./message-views.js";

const options = (values) => [["", "all"], ...values.map((v) => [v, v])];

/** The audit's filter fields; `user` adds the address filter of the domain's audit. */
export function auditFields(user) {
  return [
    dateRange("Attempts from", "Attempts before"),
    user ? field("Address", { name: "user" }) : null,
    field("Result", { name: "result", type: "select", options: options(["success", "failure"]) }),
    field("Service", { name: "service", type: "select", options: options(["api", "smtp-submission"]) }),
  ];
}

/** The audit entries as a table. */
export function auditTable(items) {
  return table(
    `${items.length} audit entr${items.length === 1 ? "y" : "ies"}`,
    [
      "Last attempt",
      "First attempt",
      "Address",
      "Service",
      "Result",
      "Reason",
      "Credential",
      "Client IP",
      "Attempts",
    ],
    items.map((e) =>
      h(
        "tr",
        {},
        h("td", {}, when(e.lastAt)),
        h("td", {}, when(e.firstAt)),
        h("td", {}, e.userExists ? e.address : `${e.address} (no such user)`),
        h("td", {}, e.service),
        h("td", {}, e.result),
        h("td", {}, e.reason ?? ""),
        h("td", {}, e.credential ?? ""),
        h("td", {}, e.ip),
        h("td", {}, String(e.count)),
      ),
    ),
  );
}

/** The user's own sign-in attempts. */
export async function mine(root) {
  const results = h("div");
  const load = async (query) => {
    try {
      const page = await api("GET", "/v1/me/login-audit", { query });
      results.replaceChildren(auditTable(page.items));
    } catch (error) {
      results.replaceChildren(failure(error));
    }
  };
  root.append(filters("Search my sign-ins", auditFields(false), load), results);
  await load({});
}
