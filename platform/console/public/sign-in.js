/** The mail user's sign-in: address and password, then the TOTP code when the session asks for it. */

import { call } from "./api.js";
import { api, auth, failure, go, say } from "./app.js";
import { field, formValues, h } from "./dom.js";

/** Stores a session answer (`POST /v1/sessions` and the steps that replace it). */
export function keepSession(session) {
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
      keepSession(session);
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
      keepSession(session);
      say("Signed in.");
      go("#/quarantine");
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  });
  root.replaceChildren(form, out);
  form.querySelector("input").focus();
}
