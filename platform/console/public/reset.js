/** Password recovery pages: what to do about a lost password (and asking for a reset link), and the page a reset link opens — the new password twice, set with the link's token. */

import { call } from "./api.js";
import { failure, go, say } from "./app.js";
import { field, formValues, h, newPasswordFields } from "./dom.js";

/** The API's field names on this page, as its labels say them. */
const LABELS = { password: "New password" };

/** An error paragraph announced at once. */
function alert(...children) {
  return h("p", { class: "error", role: "alert" }, children);
}

/** Marks the inputs the errors name as invalid (and the others as valid again). */
function markInvalid(form, names) {
  for (const input of form.querySelectorAll("input")) {
    if (names.includes(input.name)) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** What went wrong, said for the person holding the link. */
function explain(error, form) {
  if (error.code === "MP_TLS_REQUIRED") {
    markInvalid(form, []);
    return alert(
      "Your mail domain only lets you set a password over a secure connection (HTTPS), and this page was opened over plain HTTP. ",
      "Nothing was changed, and the password you typed travelled unencrypted: do not use it. ",
      "Open the link from the mail again with an https:// address, or ask your administrator.",
    );
  }
  if (error.code === "MP_PASSWORD_POLICY_VIOLATION" && error.errors.length > 0) {
    markInvalid(form, [...new Set(error.errors.map((e) => String(e.path?.[0] ?? "")))]);
    return h(
      "div",
      { role: "alert" },
      h("p", { class: "error" }, "The password was not set; your domain's password policy refuses it:"),
      h(
        "ul",
        { class: "error" },
        error.errors.map((e) => {
          const name = String(e.path?.[0] ?? "");
          return h("li", {}, `${LABELS[name] ?? name}: ${e.message}`);
        }),
      ),
    );
  }
  if (error.code === "MP_RESET_LINK_INVALID") {
    markInvalid(form, []);
    return alert(
      `${error.message}. `,
      h("a", { href: "#/sign-in" }, "Back to sign-in"),
      " (ask for a new link there, or ask your administrator).",
    );
  }
  return alert(`Failed: ${error.message}`);
}

/**
 * The reset page. `token` is the link's (null when the page was opened without one, or reloaded:
 * the token is not kept); `used` is told once the password is set, so the token is forgotten.
 */
export function page(root, token, used) {
  if (!token) {
    root.append(
      alert(
        "This page sets a password with the link from a password-reset mail, and no link was given (the page forgets it when reloaded). Open the link from the mail again. ",
        h("a", { href: "#/sign-in" }, "Back to sign-in"),
      ),
    );
    return;
  }
  const out = h("div", { id: "reset-outcome" });
  const form = h(
    "form",
    { "aria-label": "Choose a new password", "aria-describedby": "reset-outcome" },
    h("p", {}, "Type your new password twice. Setting it signs you out everywhere."),
    ...newPasswordFields("password"),
    h("button", { type: "submit" }, "Set password"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { password, repeat } = formValues(form);
    if (password !== repeat) {
      markInvalid(form, ["repeat"]);
      out.replaceChildren(alert("New password again: the two passwords differ."));
      return;
    }
    try {
      // The token travels in this request's path only (the API redacts it from its logs).
      await call("POST", `/v1/password-resets/${encodeURIComponent(token)}`, { body: { password } });
      used();
      form.reset();
      say("Your password is set. Sign in with it.");
      go("#/sign-in");
    } catch (error) {
      out.replaceChildren(explain(error, form));
    }
  });
  root.append(form, out);
  form.querySelector("input").focus();
}

/**
 * Lost password: the instructions that apply to the address (`GET /v1/sessions/lost-password`), and
 * where the domain offers it, a reset link by mail (`POST /v1/password-resets`). The answers are the
 * same for every address of a domain, so the page tells nobody who has an account.
 */
export function lostPassword(root) {
  const out = h("div");
  const form = h(
    "form",
    { "aria-label": "Lost password" },
    field("Address", { name: "address", type: "email", autocomplete: "username", required: true }),
    h("button", { type: "submit" }, "Continue"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { address } = formValues(form);
    try {
      const help = await call("GET", "/v1/sessions/lost-password", { query: { address } });
      const instructions = help.instructions ? h("p", { class: "instructions" }, help.instructions) : null;
      if (!help.selfServiceReset) {
        out.replaceChildren(
          instructions ??
            h("p", {}, "Your mail service does not reset passwords by mail: ask your administrator."),
        );
        return;
      }
      const send = h("button", { type: "button" }, "Mail me a reset link");
      send.addEventListener("click", async () => {
        try {
          const accepted = await call("POST", "/v1/password-resets", { body: { address } });
          out.replaceChildren(
            ...(instructions ? [instructions] : []),
            h(
              "p",
              { role: "status" },
              `If ${address} may reset its password by mail, a link is on its way to the other address on file for it (not this mailbox). The link works once, for ${accepted.linkValidMinutes} minutes.`,
            ),
          );
          say("Reset link requested.");
        } catch (error) {
          out.replaceChildren(failure(error));
        }
      });
      out.replaceChildren(...(instructions ? [instructions] : []), send);
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  root.append(
    h("p", {}, "Type your address to see what to do."),
    form,
    out,
    h("p", {}, h("a", { href: "#/sign-in" }, "Back to sign-in")),
  );
  form.querySelector("input").focus();
}
