/** The mail user's pages: sign-in with TOTP, their quarantine and message log, and their settings (password, TOTP, application passwords). */

import { call } from "./api.js";
import { api, auth, failure, go, say } from "./app.js";
import { append, field, formValues, h, newPasswordFields, table, when } from "./dom.js";

/** Stores a session answer (`POST /v1/sessions` and the steps that replace it). */
function keep(session) {
  auth.set({ kind: "user", token: session.token, address: session.address, stage: session.stage });
}

/** Sign-in: address and password, then the TOTP code when the session's stage asks for it. */
export async function signIn(root) {
  const out = h("div");
  const form = h(
    "form",
    { "aria-label": "Sign in" },
    field("Address", { name: "address", type: "email", autocomplete: "username", required: true }),
    field("Password", {
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.replaceChildren();
    try {
      const session = await api("POST", "/v1/sessions", { body: formValues(form) });
      if (session.stage === "second-factor") return secondFactor(root, session);
      keep(session);
      say("Signed in.");
      go("#/quarantine");
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  root.append(
    form,
    out,
    h("p", {}, h("a", { href: "#/lost-password" }, "Forgot your password?")),
    h("p", {}, "Administrators: ", h("a", { href: "#/admin/sign-in" }, "sign in with an API token"), "."),
  );
  form.querySelector("input").focus();
}

function secondFactor(root, pending) {
  const out = h("div");
  const form = h(
    "form",
    { "aria-label": "Second factor" },
    h("p", {}, "Enter the 6-digit code of your authenticator app, or one of your recovery codes."),
    field("Code", {
      name: "code",
      autocomplete: "one-time-code",
      inputmode: "numeric",
      required: true,
      maxlength: "32",
    }),
    h("button", { type: "submit" }, "Verify"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      // The pending session's token only finishes the sign-in: it is not kept.
      const session = await call("POST", "/v1/sessions/second-factor", {
        token: pending.token,
        body: formValues(form),
      });
      keep(session);
      say("Signed in.");
      go("#/quarantine");
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  root.replaceChildren(form, out);
  form.querySelector("input").focus();
}

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

function button(label, onclick, cls) {
  return h("button", { type: "button", class: cls, onclick }, label);
}

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

/** My settings: password, TOTP, application passwords. */
export async function settings(root) {
  let me;
  try {
    me = await api("GET", "/v1/me");
  } catch (error) {
    root.append(failure(error));
    return;
  }
  const stage = me.session.stage;
  append(root, [
    h("p", {}, `Signed in as ${me.address}.`),
    stage === "password-change"
      ? h("p", { class: "error", role: "alert" }, "Your password expired: choose a new one.")
      : null,
    stage === "two-factor-enrolment"
      ? h("p", { class: "error", role: "alert" }, "Your domain requires two-step sign-in: set it up below.")
      : null,
  ]);
  if (stage !== "two-factor-enrolment") root.append(passwordSection());
  if (stage !== "password-change") root.append(totpSection(me));
  if (stage === "active") root.append(await appPasswordSection());
}

function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), children);
}

function passwordSection() {
  const out = h("div");
  const form = h(
    "form",
    { "aria-label": "Change password" },
    field("Current password", {
      name: "currentPassword",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    ...newPasswordFields("newPassword"),
    h("button", { type: "submit" }, "Change password"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { currentPassword, newPassword, repeat } = formValues(form);
    if (newPassword !== repeat) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, "The new passwords differ."));
      return;
    }
    try {
      keep(await api("PUT", "/v1/me/password", { body: { currentPassword, newPassword } }));
      form.reset();
      say("Password changed; your other sessions were signed out.");
      go("#/settings");
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  return section("Password", form, out);
}

function totpSection(me) {
  const out = h("div");
  const codeForm = (label, action) => {
    const form = h(
      "form",
      { "aria-label": label },
      field("Code from the app", {
        name: "code",
        autocomplete: "one-time-code",
        inputmode: "numeric",
        required: true,
      }),
      h("button", { type: "submit" }, label),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await action(formValues(form));
      } catch (error) {
        out.replaceChildren(failure(error));
      }
    });
    return form;
  };
  const confirm = codeForm("Confirm two-step sign-in", async (body) => {
    keep(await api("POST", "/v1/me/totp/confirm", { body }));
    say("Two-step sign-in is on.");
    go("#/settings");
  });
  if (me.twoFactor === "on") {
    return section(
      "Two-step sign-in",
      h("p", {}, `On. Recovery codes left: ${me.recoveryCodesLeft}.`),
      codeForm("Turn off two-step sign-in", async (body) => {
        await api("DELETE", "/v1/me/totp", { body });
        say("Two-step sign-in is off.");
        go("#/settings");
      }),
      out,
    );
  }
  if (me.twoFactor === "pending") {
    return section(
      "Two-step sign-in",
      h("p", {}, "Set up but not confirmed: enter a code from the app, or start again."),
      confirm,
      codeForm("Start again", async (body) => {
        await api("DELETE", "/v1/me/totp", { body });
        go("#/settings");
      }),
      out,
    );
  }
  const start = h("button", { type: "button" }, "Set up two-step sign-in");
  start.addEventListener("click", async () => {
    try {
      const enrolment = await api("POST", "/v1/me/totp");
      out.replaceChildren(
        h("p", {}, "Add this to your authenticator app (the link, or the secret typed in):"),
        h("p", {}, h("code", { class: "otpauth" }, enrolment.otpauthUri)),
        h("p", {}, "Secret: ", h("code", { class: "totp-secret" }, enrolment.secret)),
        h("p", {}, "Recovery codes (each works once; keep them somewhere safe, they are not shown again):"),
        h(
          "ul",
          { class: "recovery-codes" },
          enrolment.recoveryCodes.map((c) => h("li", {}, h("code", {}, c))),
        ),
        confirm,
      );
      confirm.querySelector("input").focus();
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  return section("Two-step sign-in", h("p", {}, "Off."), start, out);
}

async function appPasswordSection() {
  const list = h("div");
  const out = h("div");
  const load = async () => {
    const page = await api("GET", "/v1/me/app-passwords");
    list.replaceChildren(
      table(
        "Application passwords",
        ["Name", "Scopes", "Starts with", "Created", "Last used", "State", "Actions"],
        page.items.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, p.name),
            h("td", {}, p.scopes.join(", ")),
            h("td", {}, h("code", {}, p.prefix)),
            h("td", {}, when(p.createdAt)),
            h("td", {}, p.lastUsedAt ? when(p.lastUsedAt) : "never"),
            h("td", {}, p.revokedAt ? `revoked ${when(p.revokedAt)}` : "valid"),
            h(
              "td",
              {},
              p.revokedAt
                ? ""
                : button(
                    "Revoke",
                    async () => {
                      try {
                        await api("DELETE", `/v1/me/app-passwords/${encodeURIComponent(p.id)}`);
                        say(`Revoked “${p.name}”.`);
                        await load();
                      } catch (error) {
                        out.replaceChildren(failure(error));
                      }
                    },
                    "danger",
                  ),
            ),
          ),
        ),
      ),
    );
  };
  const form = h(
    "form",
    { "aria-label": "New application password" },
    h(
      "fieldset",
      {},
      h("legend", {}, "New application password"),
      field("Name", { name: "name", required: true, maxlength: "100" }),
      field("SMTP (mail clients)", { name: "scopes", type: "checkbox", value: "smtp", checked: true }),
      field("API (scripts)", { name: "scopes", type: "checkbox", value: "api" }),
      h("button", { type: "submit" }, "Create"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("POST", "/v1/me/app-passwords", { body: formValues(form) });
      form.reset();
      out.replaceChildren(
        h(
          "p",
          { role: "alert" },
          `“${created.name}” created. Its password is shown only now: `,
          h("code", { class: "app-password" }, created.password),
        ),
      );
      await load();
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  try {
    await load();
  } catch (error) {
    list.replaceChildren(failure(error));
  }
  return section("Application passwords", list, form, out);
}
