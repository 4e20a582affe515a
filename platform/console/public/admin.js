/** The domain administrator's pages: sign-in with an API token, quarantine, message-log search, delivery queue and statistics of one domain. */

import { call } from "./api.js";
import { api, auth, failure, go, say } from "./app.js";
import { auditFields, auditTable } from "./audit.js";
import { button, field, formValues, h, svg, table, when } from "./dom.js";
import {
  classificationField,
  dateRange,
  filters,
  logTable,
  messageDetail,
  quarantineTable,
} from "./message-views.js";

/** Sign-in with an API token (platform admins also name the account). */
export async function signIn(root) {
  const out = h("div");
  const form = h(
    "form",
    { "aria-label": "Administrator sign-in" },
    field("API token", { name: "token", type: "password", autocomplete: "off", required: true }),
    field("Account (platform administrators only)", { name: "account", autocomplete: "off" }),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { token, account } = formValues(form);
    try {
      const me = await call("GET", "/v1/whoami", { token, account });
      let domains = me.domains;
      if (me.role !== "domain-admin") {
        domains = [];
        let cursor;
        do {
          const page = await call("GET", "/v1/domains", { token, account, query: { limit: "500", cursor } });
          domains.push(...page.items.map((d) => d.name));
          cursor = page.nextCursor;
        } while (cursor);
      }
      auth.set({ kind: "admin", token, account, role: me.role, domains, domain: domains[0] ?? "" });
      say(`Signed in (${me.role}).`);
      go("#/admin/quarantine");
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  root.append(
    h("p", {}, "Sign in with an API token of your account or domain. The token stays in this tab only."),
    form,
    out,
    h("p", {}, "Mail users: ", h("a", { href: "#/sign-in" }, "sign in with your address"), "."),
  );
  form.querySelector("input").focus();
}

/** The domain picker above every admin page; answers the chosen domain. */
export function domainPicker(root, onChange) {
  const who = auth.get();
  if (!who.domains.length) {
    root.append(h("p", { class: "error" }, "This token manages no domain yet."));
    return null;
  }
  const picker = field("Domain", {
    name: "domain",
    type: "select",
    options: who.domains.map((d) => [d, d]),
  });
  const select = picker.querySelector("select");
  select.value = who.domain;
  select.addEventListener("change", () => {
    auth.set({ ...auth.get(), domain: select.value });
    onChange(select.value);
  });
  root.append(h("form", { "aria-label": "Domain picker", class: "domain" }, picker));
  return who.domain;
}

const base = (domain) => `/v1/domains/${encodeURIComponent(domain)}`;

/** A page of one domain: the picker, a filter form, and results reloaded on either. */
function domainPage(root, legend, fields, load) {
  const results = h("div");
  let domain;
  let last = {};
  const run = async (query) => {
    last = query;
    try {
      await load(domain, query, results);
    } catch (error) {
      results.replaceChildren(failure(error));
    }
  };
  domain = domainPicker(root, (d) => {
    domain = d;
    run(last);
  });
  if (!domain) return null;
  if (fields) root.append(filters(legend, fields, run));
  root.append(results);
  return run({});
}

/**
 * The domain's quarantine: view, release, delete, and each of the last two also as a report to the
 * spam filter ("Not spam", "Delete and report spam"); release or delete the selected messages at once.
 */
export async function quarantine(root) {
  const detail = h("div");
  await domainPage(
    root,
    "Search the quarantine",
    [
      field("Subject", { name: "subject" }),
      field("Sender", { name: "sender" }),
      field("Recipient", { name: "recipient" }),
      dateRange(),
    ],
    async function load(domain, query, results) {
      const page = await api("GET", `${base(domain)}/quarantine`, { query });
      const act = async (method, path, done, options = {}) => {
        try {
          const answer = await api(method, path, options);
          say(done(answer));
          detail.replaceChildren();
          await load(domain, query, results);
        } catch (error) {
          results.prepend(failure(error));
        }
      };
      /** Releases or deletes every selected message, one call each; says how many succeeded. */
      const bulk = async (verb, method, suffix) => {
        const ids = [...results.querySelectorAll("input.select:checked")].map((box) => box.value);
        if (ids.length === 0) {
          say("Select the messages first.");
          return;
        }
        const failed = [];
        for (const id of ids) {
          const path = `${base(domain)}/quarantine/${encodeURIComponent(id)}${suffix}`;
          await api(method, path).catch((error) => failed.push(error));
        }
        say(`${verb} ${ids.length - failed.length} of ${ids.length} message${ids.length === 1 ? "" : "s"}.`);
        detail.replaceChildren();
        await load(domain, query, results);
        for (const error of failed) results.prepend(failure(error));
      };
      results.replaceChildren(
        h(
          "div",
          { class: "actions" },
          button("Release selected", () => bulk("Released", "POST", "/release")),
          button("Delete selected", () => bulk("Deleted", "DELETE", ""), "danger"),
        ),
        quarantineTable(
          page.items,
          (e) => {
            const path = `${base(domain)}/quarantine/${encodeURIComponent(e.id)}`;
            return [
              button(
                "View",
                async () => {
                  detail.replaceChildren(messageDetail(await api("GET", path)));
                  detail.querySelector("h2").focus();
                },
                "secondary",
              ),
              button("Release", () =>
                act("POST", `${path}/release`, (a) => `Released “${e.subject}” (queue ID ${a.queueId}).`),
              ),
              button(
                "Not spam",
                () =>
                  act(
                    "POST",
                    `${path}/release`,
                    (a) => `Released “${e.subject}” and reported it as not spam (queue ID ${a.queueId}).`,
                    { query: { report: "ham" } },
                  ),
                "secondary",
              ),
              button("Delete", () => act("DELETE", path, () => `Deleted “${e.subject}”.`), "danger"),
              button(
                "Delete and report spam",
                () => {
                  // Nothing brings a deleted message back: ask first.
                  const question = `Delete “${e.subject}” from the quarantine and report it as spam? It cannot be recovered.`;
                  if (!globalThis.confirm(question)) return;
                  return act("DELETE", path, () => `Deleted “${e.subject}” and reported it as spam.`, {
                    query: { report: "spam" },
                  });
                },
                "danger",
              ),
            ];
          },
          true,
        ),
      );
    },
  );
  root.append(detail);
}

/** The domain's message log, with the filters of the log search. */
export async function log(root) {
  await domainPage(
    root,
    "Search the message log",
    [
      dateRange(),
      field("Subject", { name: "subject" }),
      field("Sender", { name: "sender" }),
      field("Recipient", { name: "recipient" }),
      classificationField(),
      field("Most results", { name: "limit", type: "number", min: "1", max: "1000", value: "100" }),
    ],
    async (domain, query, results) => {
      const page = await api("GET", `${base(domain)}/message-log`, { query });
      results.replaceChildren(logTable(page.items));
    },
  );
}

/** The domain's delivery queue: retry or delete a message. */
export async function queue(root) {
  await domainPage(root, "", null, async function load(domain, query, results) {
    const page = await api("GET", `${base(domain)}/queue`, { query });
    const again = () => load(domain, query, results);
    const act = async (method, path, done) => {
      try {
        await api(method, path);
        say(done);
        await again();
      } catch (error) {
        results.prepend(failure(error));
      }
    };
    results.replaceChildren(
      h(
        "div",
        { class: "actions" },
        button("Retry all now", () => act("POST", `${base(domain)}/queue-retry`, "Retrying the queue now.")),
        button("Refresh", again, "secondary"),
      ),
      table(
        `${page.items.length} queued message${page.items.length === 1 ? "" : "s"}`,
        [
          "Received",
          "Sender",
          "Recipients",
          "Subject",
          "State",
          "Attempts",
          "Last error",
          "Next attempt",
          "Actions",
        ],
        page.items.map((m) => {
          const path = `${base(domain)}/queue/${encodeURIComponent(m.id)}`;
          return h(
            "tr",
            {},
            h("td", {}, when(m.receivedAt)),
            h("td", {}, m.sender || "(null sender)"),
            h("td", {}, m.recipients.join(", ")),
            h("td", { class: "subject" }, m.subject),
            h("td", {}, m.state),
            h("td", {}, String(m.attempts)),
            h("td", {}, m.lastError ?? ""),
            h("td", {}, when(m.nextAttemptAt)),
            h(
              "td",
              {},
              h(
                "div",
                { class: "actions" },
                button("Retry", () => act("POST", `${path}/retry`, `Retrying “${m.subject}”.`)),
                button(
                  "Delete",
                  () => act("DELETE", path, `Deleted “${m.subject}” from the queue.`),
                  "danger",
                ),
              ),
            ),
          );
        }),
      ),
    );
  });
}

const COUNTS = [
  ["total", "Messages"],
  ["clean", "Clean"],
  ["unsure", "Unsure"],
  ["spam", "Spam"],
  ["quarantined", "Quarantined"],
  ["blocked", "Blocked"],
  ["rejected", "Rejected"],
  ["viruses", "Viruses"],
  ["deferred", "Deferred"],
  ["allowlisted", "Allow-listed"],
];

/**
 * Per-day bars of clean, spam and other mail, drawn as inline SVG (no script or style attribute: the
 * CSP allows neither). The table under it carries the same numbers for screen readers.
 */
export function chart(days) {
  const width = 640;
  const height = 220;
  const pad = 30;
  const max = Math.max(1, ...days.map((d) => d.total));
  const slot = (width - pad * 2) / Math.max(1, days.length);
  const bar = Math.max(4, Math.min(40, slot * 0.7));
  const y = (n) => ((height - pad * 2) * n) / max;
  const bars = days.flatMap((d, i) => {
    const x = pad + i * slot + (slot - bar) / 2;
    const other = d.total - d.clean - d.spam;
    let top = height - pad;
    const parts = [];
    for (const [cls, n] of [
      ["clean", d.clean],
      ["spam", d.spam],
      ["other", Math.max(0, other)],
    ]) {
      if (n <= 0) continue;
      top -= y(n);
      parts.push(
        svg(
          "rect",
          { class: cls, x, y: top, width: bar, height: y(n) },
          svg("title", {}, `${d.date}: ${n} ${cls}`),
        ),
      );
    }
    parts.push(
      svg("text", { x: x + bar / 2, y: height - pad + 14, "text-anchor": "middle" }, d.date.slice(5)),
    );
    return parts;
  });
  return h(
    "figure",
    {},
    svg(
      "svg",
      {
        class: "chart",
        viewBox: `0 0 ${width} ${height}`,
        width: "100%",
        role: "img",
        "aria-labelledby": "chart-title",
      },
      svg("title", { id: "chart-title" }, `Messages per day, most ${max} in a day`),
      svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: "#4a4a4a" }),
      svg("text", { x: 2, y: pad }, String(max)),
      bars,
    ),
    h(
      "figcaption",
      { class: "legend" },
      "Messages per day: ",
      h("span", { class: "clean" }, "clean"),
      h("span", { class: "spam" }, "spam"),
      h("span", { class: "other" }, "other"),
    ),
  );
}

/** The domain's statistics: totals, a chart per day and the same numbers as a table. */
export async function statistics(root) {
  await domainPage(root, "Time range", [dateRange()], async (domain, query, results) => {
    const stats = await api("GET", `${base(domain)}/statistics`, { query });
    results.replaceChildren(
      h(
        "dl",
        { class: "totals" },
        COUNTS.map(([key, label]) => h("div", {}, h("dt", {}, label), h("dd", {}, String(stats[key])))),
      ),
      chart(stats.days),
      table(
        `Per day (${stats.timezone})`,
        ["Date", ...COUNTS.map(([, label]) => label)],
        stats.days.map((d) =>
          h(
            "tr",
            {},
            h("td", {}, d.date),
            COUNTS.map(([key]) => h("td", {}, String(d[key]))),
          ),
        ),
      ),
    );
  });
}

/** The domain's login audit: API sign-ins and SMTP AUTH attempts, coalesced per hour. */
export async function loginAudit(root) {
  await domainPage(root, "Search the login audit", auditFields(true), async (domain, query, results) => {
    const page = await api("GET", `${base(domain)}/login-audit`, { query });
    results.replaceChildren(auditTable(page.items));
  });
}
