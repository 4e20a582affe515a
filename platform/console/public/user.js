/** The mail user's own mail: their quarantine and their message log. */

import { api, failure, say } from "./app.js";
import { button, field, h } from "./dom.js";
import {
  classificationField,
  dateRange,
  filters,
  logTable,
  messageDetail,
  quarantineTable,
} from "./message-views.js";

/** My quarantine: filters, list, view, release and delete, each of the last two also as a report to the spam filter. */
export async function quarantine(root) {
  const results = h("div");
  const detail = h("div");
  const load = async (query) => {
    try {
      const page = await api("GET", "/v1/me/quarantine", { query });
      results.replaceChildren(
        quarantineTable(page.items, (e) => [
          button("View", () => view(e), "secondary"),
          button("Release", () => release(e)),
          button("Not spam", () => release(e, true), "secondary"),
          button("Delete", () => remove(e), "secondary"),
          button("Delete and report spam", () => remove(e, true), "danger"),
        ]),
      );
    } catch (error) {
      results.replaceChildren(failure(error));
    }
  };
  const view = async (e) => {
    try {
      const message = await api("GET", `/v1/me/quarantine/${encodeURIComponent(e.id)}`);
      detail.replaceChildren(messageDetail(message));
      detail.querySelector("h2").focus();
    } catch (error) {
      detail.replaceChildren(failure(error));
    }
  };
  /** Release; with `report`, "not spam": the spam filter learns it is wanted mail first. */
  const release = async (e, report = false) => {
    try {
      const released = await api("POST", `/v1/me/quarantine/${encodeURIComponent(e.id)}/release`, {
        query: report ? { report: "ham" } : {},
      });
      say(
        `Released “${e.subject}” for delivery${report ? " and reported it as not spam" : ""} (queue ID ${released.queueId}).`,
      );
      detail.replaceChildren();
      await load({});
    } catch (error) {
      results.prepend(failure(error));
    }
  };
  /** Delete; with `report`, "delete and report spam": the spam filter learns it is spam first. */
  const remove = async (e, report = false) => {
    // Nothing brings a deleted message back: ask first.
    const question = report
      ? `Delete “${e.subject}” from your quarantine and report it as spam? It cannot be recovered.`
      : `Delete “${e.subject}” from your quarantine? It cannot be recovered.`;
    if (!globalThis.confirm(question)) return;
    try {
      await api("DELETE", `/v1/me/quarantine/${encodeURIComponent(e.id)}`, {
        query: report ? { report: "spam" } : {},
      });
      say(`Deleted “${e.subject}”${report ? " and reported it as spam" : ""}.`);
      detail.replaceChildren();
      await load({});
    } catch (error) {
      results.prepend(failure(error));
    }
  };
  root.append(
    filters(
      "Search my quarantine",
      [field("Subject", { name: "subject" }), field("Sender", { name: "sender" }), dateRange()],
      load,
    ),
    results,
    detail,
  );
  await load({});
}

/** My message log. */
export async function log(root) {
  const results = h("div");
  const load = async (query) => {
    try {
      const page = await api("GET", "/v1/me/message-log", { query });
      results.replaceChildren(logTable(page.items));
    } catch (error) {
      results.replaceChildren(failure(error));
    }
  };
  root.append(
    filters(
      "Search my message log",
      [
        dateRange(),
        field("Subject", { name: "subject" }),
        field("Sender", { name: "sender" }),
        classificationField(),
      ],
      load,
    ),
    results,
  );
  await load({});
}
