/** Views of messages shared by the user's and the administrator's pages: filters, the quarantine and message-log tables, a held message's detail. */

import { field, formValues, h, table, when } from "./dom.js";

/** The two datetime fields of a date filter (`since`, `until`). */
export function dateRange(from = "Received from", before = "Received before") {
  return [
    field(from, { name: "since", type: "datetime-local" }),
    field(before, { name: "until", type: "datetime-local" }),
  ];
}

/** A filter form that calls `load(values)` on submit and once now. */
export function filters(legend, fields, load) {
  const form = h(
    "form",
    { role: "search", "aria-label": legend },
    h("fieldset", {}, h("legend", {}, legend), fields, h("button", { type: "submit" }, "Search")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(formValues(form));
  });
  return form;
}

/** The quarantine table (with `selectable`, a checkbox per message for the bulk actions), shared with the admin pages. */
export function quarantineTable(items, actions, selectable = false) {
  return table(
    `${items.length} held message${items.length === 1 ? "" : "s"}`,
    [...(selectable ? ["Select"] : []), "Received", "Sender", "Recipients", "Subject", "Why", "Actions"],
    items.map((e) =>
      h(
        "tr",
        {},
        selectable
          ? h(
              "td",
              {},
              h("input", {
                type: "checkbox",
                class: "select",
                value: e.id,
                "aria-label": `Select “${e.subject || "(no subject)"}” from ${e.sender || "the null sender"}`,
              }),
            )
          : null,
        h("td", {}, when(e.receivedAt)),
        h("td", {}, e.sender || "(null sender)"),
        h("td", {}, e.recipients.join(", ")),
        h("td", { class: "subject" }, e.subject),
        h("td", {}, e.reason),
        h("td", {}, h("div", { class: "actions" }, actions(e))),
      ),
    ),
  );
}

/** The detail of a held message: headers in a list, the raw text in <pre>, all as text. */
export function messageDetail(message) {
  return h(
    "section",
    { "aria-label": "Message" },
    h("h2", { tabindex: "-1" }, message.subject || "(no subject)"),
    h(
      "dl",
      {},
      h("dt", {}, "Sender"),
      h("dd", {}, message.sender || "(null sender)"),
      h("dt", {}, "Recipients"),
      h("dd", {}, message.recipients.join(", ")),
      h("dt", {}, "Why it is held"),
      h("dd", {}, `${message.reason} (${message.classification})`),
      h("dt", {}, "Purged after"),
      h("dd", {}, when(message.expiresAt)),
    ),
    h("pre", {}, message.raw),
  );
}

/** The message-log table, shared with the admin pages. */
export function logTable(items) {
  return table(
    `${items.length} log entr${items.length === 1 ? "y" : "ies"}`,
    ["Time", "Sender", "Recipients", "Subject", "Classification", "Action", "Delivery", "Client"],
    items.map((e) =>
      h(
        "tr",
        {},
        h("td", {}, when(e.at)),
        h("td", {}, e.sender || "(null sender)"),
        h("td", {}, e.recipients.join(", ")),
        h("td", { class: "subject" }, e.subject),
        h("td", {}, e.classification),
        h("td", {}, e.action),
        h("td", {}, [e.delivery ?? "", e.deliveryDetail ? `: ${e.deliveryDetail}` : ""].join("")),
        h("td", {}, `${e.clientIp} (${e.clientHelo})`),
      ),
    ),
  );
}

/** The classifications of the message log (the API's LOG_CLASSIFICATIONS). */
export const CLASSIFICATIONS = [
  "clean",
  "unsure",
  "spam",
  "allowlisted",
  "blocked",
  "blocked-attachment",
  "oversized",
  "spf-fail",
  "dmarc-fail",
  "virus",
  "rejected",
  "deferred",
];

/** The classification select (first option: all). */
export function classificationField() {
  return field("Classification", {
    name: "classification",
    type: "select",
    options: [["", "all"], ...CLASSIFICATIONS.map((c) => [c, c])],
  });
}
