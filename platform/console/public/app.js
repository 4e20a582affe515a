/** The console's shell: who is signed in (kept in sessionStorage, never localStorage), navigation and the hash router. */

import * as admin from "./admin.js";
import { call } from "./api.js";
import * as audit from "./audit.js";
import { h } from "./dom.js";
import * as objects from "./objects.js";
import * as reset from "./reset.js";
import { settings } from "./settings.js";
import { signIn } from "./sign-in.js";
import * as user from "./user.js";

const KEY = "mailplane-console";

/**
 * The signed-in party: `{ kind: "user", token, address, stage }` or `{ kind: "admin", token, account,
 * role, domains, domain }`. sessionStorage ends with the tab, and is not shared with other tabs.
 */
export const auth = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    } catch {
      return null;
    }
  },
  set(value) {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
  },
};

/** Calls the API as the signed-in party; a bearer the API no longer takes signs out and shows the sign-in page. */
export async function api(method, path, options = {}) {
  const who = auth.get();
  try {
    return await call(method, path, {
      ...options,
      token: who?.token,
      account: who?.kind === "admin" ? who.account : undefined,
    });
  } catch (error) {
    // MP_UNAUTHORIZED: the bearer no longer works. A wrong current password or TOTP code in the
    // settings is 401 MP_SIGN_IN_FAILED: the session itself is fine, so it stays.
    if (error.status === 401 && error.code === "MP_UNAUTHORIZED" && who) {
      auth.set(null);
      say(`Signed out: ${error.message}`);
      go(who.kind === "admin" ? "#/admin/sign-in" : "#/sign-in");
    }
    throw error;
  }
}

/** Announces a message in the polite live region. */
export function say(message) {
  const status = document.getElementById("status");
  status.textContent = "";
  // A fresh text node, so screen readers announce a repeated message too.
  setTimeout(() => {
    status.textContent = message;
  }, 30);
  // The notice goes once it has been read; a newer one restarts the wait.
  clearTimeout(say.timer);
  say.timer = setTimeout(() => {
    status.textContent = "";
  }, 15_000);
}

/** The error paragraph of a failed call. */
export function failure(error) {
  return h("p", { class: "error", role: "alert" }, `Failed: ${error.message}`);
}

/** Navigates to `hash` (re-rendering when it is the current one). */
export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

const USER_PAGES = {
  "#/quarantine": ["My quarantine", user.quarantine],
  "#/log": ["My message log", user.log],
  "#/sign-ins": ["My sign-ins", audit.mine],
  "#/settings": ["My settings", settings],
};
const ADMIN_PAGES = {
  "#/admin/quarantine": ["Quarantine", admin.quarantine],
  "#/admin/log": ["Message log", admin.log],
  "#/admin/queue": ["Delivery queue", admin.queue],
  "#/admin/statistics": ["Statistics", admin.statistics],
  "#/admin/login-audit": ["Login audit", admin.loginAudit],
  "#/admin/objects": ["Declared objects", objects.declared],
};

function navigation(who, hash) {
  const nav = document.getElementById("nav");
  const pages = who?.kind === "user" ? USER_PAGES : who?.kind === "admin" ? ADMIN_PAGES : {};
  const items = Object.entries(pages).map(([href, [title]]) =>
    h("li", {}, h("a", { href, "aria-current": href === hash ? "page" : undefined }, title)),
  );
  const out = who
    ? h("li", {}, h("button", { type: "button", class: "secondary", onclick: signOut }, "Sign out"))
    : null;
  nav.replaceChildren(h("ul", {}, items, out));
}

async function signOut() {
  const who = auth.get();
  if (who?.kind === "user") await api("DELETE", "/v1/sessions/current").catch(() => undefined);
  auth.set(null);
  say("Signed out.");
  go(who?.kind === "admin" ? "#/admin/sign-in" : "#/sign-in");
}

/** What to do about a lost password, and asking for a reset link (open to anyone, like sign-in). */
const LOST_PASSWORD = "#/lost-password";

/** The page a password-reset link opens (`#/reset/mpr_…`); the token is taken out of the address at once. */
const RESET = "#/reset";

/**
 * The token of the reset link this tab opened. It is kept in this module only: never in storage,
 * and out of the address bar and the history as soon as it is read (it still never left the
 * browser: a fragment is not sent in requests or referrers).
 */
let resetToken = null;

/** Shows `view` under the heading `title` in <main>, focused. */
async function show(title, view) {
  const main = document.getElementById("main");
  document.title = `${title} · mailplane console`;
  const heading = h("h1", { tabindex: "-1" }, title);
  const body = h("div");
  main.replaceChildren(heading, body);
  heading.focus();
  await view(body);
}

/** Renders the page of the current hash into <main>, then moves focus to its heading. */
export async function render() {
  const who = auth.get();
  let hash = location.hash || "#/";
  if (hash.startsWith(`${RESET}/`)) {
    const given = hash.slice(RESET.length + 1);
    // A mangled escape (a mail client's rewrite) is passed on as it is: the API then refuses the link.
    try {
      resetToken = decodeURIComponent(given);
    } catch {
      resetToken = given;
    }
    history.replaceState(null, "", RESET);
    hash = RESET;
  }
  if (hash === RESET) {
    navigation(who, hash);
    await show("Choose a new password", (body) =>
      reset.page(body, resetToken, () => {
        resetToken = null;
      }),
    );
    return;
  }
  if (hash === LOST_PASSWORD) {
    navigation(who, hash);
    await show("Lost password", reset.lostPassword);
    return;
  }
  const pages = who?.kind === "user" ? USER_PAGES : who?.kind === "admin" ? ADMIN_PAGES : {};
  if (!pages[hash] && hash !== "#/admin/sign-in" && hash !== "#/sign-in") {
    hash = who?.kind === "user" ? "#/quarantine" : who?.kind === "admin" ? "#/admin/quarantine" : "#/sign-in";
  }
  if (who && (hash === "#/sign-in" || hash === "#/admin/sign-in")) {
    hash = who.kind === "user" ? "#/quarantine" : "#/admin/quarantine";
  }
  // A session that must change its password or enrol TOTP may only do that.
  if (who?.kind === "user" && who.stage !== "active") hash = "#/settings";
  if (location.hash !== hash) history.replaceState(null, "", hash);
  navigation(who, hash);
  const [title, view] =
    pages[hash] ??
    (hash === "#/admin/sign-in" ? ["Administrator sign-in", admin.signIn] : ["Sign in", signIn]);
  await show(title, view);
}

window.addEventListener("hashchange", () => render());
render();
