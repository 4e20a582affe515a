/** The mail user's settings: password, two-step sign-in (TOTP), application passwords. */

import { api, failure, go, say } from "./app.js";
import { append, button, field, formValues, h, newPasswordFields, table, when } from "./dom.js";
import { keepSession } from "./sign-in.js";

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
      keepSession(await api("PUT", "/v1/me/password", { body: { currentPassword, newPassword } }));
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
    keepSession(await api("POST", "/v1/me/totp/confirm", { body }));
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
