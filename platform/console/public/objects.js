/** The domain administrator's declared objects: users, aliases, routes and groups with their "Managed by Pulumi stack" badge, and a warning before editing a stamped one. */

import { domainPicker } from "./admin.js";
import { api, failure, say } from "./app.js";
import { h, table } from "./dom.js";

const base = (domain) => `/v1/domains/${encodeURIComponent(domain)}`;

/** The kinds listed, by plural path, with how a row names and describes its object. */
const KINDS = [
  ["users", "User", (o) => o.address, (o) => (o.enabled === false ? "disabled" : "enabled")],
  ["aliases", "Alias", (o) => o.address, describeAlias],
  ["routes", "Route", (o) => `${o.host}:${o.port}`, (o) => `priority ${o.priority}, TLS ${o.tls}`],
  ["groups", "Group", (o) => o.address, (o) => `${o.members?.length ?? 0} members`],
];

function describeAlias(o) {
  const a = o.action ?? {};
  if (a.type === "forward") return `forwards to ${a.to.join(", ")}`;
  if (a.type === "reject") return `rejects: ${a.message}`;
  return "auto-reply";
}

/** "project/stack" of a stamp. */
const stackOf = (stamp) => `${stamp.project}/${stamp.stack}`;

/** The badge of a stamped object; nothing for one no stack declares. */
export function badge(stamp) {
  if (!stamp) return h("span", { class: "unmanaged" }, "Not managed in code");
  return h("span", { class: "badge" }, `Managed by Pulumi stack ${stackOf(stamp)}`);
}

/**
 * Asks before changing an object a Pulumi stack declares: the change shows as drift in that stack,
 * and its next `pulumi up` reverts it. Answers true when the administrator goes ahead; an object no
 * stack declares needs no question.
 * @example if (await confirmManaged(user, "Disable ana@example.com")) await api("PATCH", …)
 */
export function confirmManaged(object, action) {
  const stamp = object.managedBy;
  if (!stamp) return Promise.resolve(true);
  return new Promise((resolve) => {
    const titleId = "managed-warning-title";
    const textId = "managed-warning-text";
    const dialog = h(
      "dialog",
      { class: "warning", "aria-labelledby": titleId, "aria-describedby": textId },
      h("h2", { id: titleId }, "This object is managed by Pulumi"),
      h(
        "p",
        { id: textId },
        `${object.id} is declared in code by the Pulumi stack ${stackOf(stamp)}. ${action} here and the stack will show the change as drift; its next “pulumi up” reverts it. To keep the change, make it in the stack's program instead.`,
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => close(false) }, "Cancel"),
        h("button", { type: "button", class: "danger", onclick: () => close(true) }, `${action} anyway`),
      ),
    );
    let answered = false;
    function close(answer) {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    // Escape closes the dialog: that is a cancel.
    dialog.addEventListener("close", () => close(false));
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("button.secondary").focus();
  });
}

/** The declared objects of one domain: each with its badge; users can be disabled or enabled, a forwarding alias's targets edited. */
export async function declared(root) {
  const results = h("div");
  const load = async (domain) => {
    try {
      const lists = await Promise.all(
        KINDS.map(([plural]) => api("GET", `${base(domain)}/${plural}`, { query: { limit: "500" } })),
      );
      const rows = [];
      KINDS.forEach(([plural, kind, nameOf, describe], i) => {
        for (const o of lists[i].items) {
          const name = nameOf(o);
          const cells = [
            h("td", {}, kind),
            h("td", { class: "name" }, name),
            h("td", {}, describe(o)),
            h("td", {}, badge(o.managedBy)),
            h(
              "td",
              {},
              actionsOf(plural, domain, o, () => load(domain)),
            ),
          ];
          rows.push(h("tr", {}, cells));
        }
      });
      const managed = rows.length
        ? `${lists.reduce((n, l) => n + l.items.filter((o) => o.managedBy).length, 0)} managed in code`
        : "";
      results.replaceChildren(
        table(
          `${rows.length} object${rows.length === 1 ? "" : "s"}${managed ? `, ${managed}` : ""}`,
          ["Kind", "Name", "What it does", "Managed by", "Actions"],
          rows,
        ),
      );
    } catch (error) {
      results.replaceChildren(failure(error));
    }
  };
  const domain = domainPicker(root, load);
  if (!domain) return;
  root.append(
    h(
      "p",
      {},
      "Objects a Pulumi stack declares carry its badge; a change made here to one of them is reverted by that stack's next “pulumi up”.",
    ),
    results,
  );
  await load(domain);
}

/** A row's edit actions: Disable/Enable for users, Edit targets for forwarding aliases. */
function actionsOf(plural, domain, o, reload) {
  if (plural === "users") return toggle(domain, o, reload);
  if (plural === "aliases" && o.action?.type === "forward") return editTargets(domain, o, reload);
  return "";
}

/** Writes `body` to the object at `path` (only the version shown), after asking when a stack declares it. */
async function change(o, path, body, action, done) {
  if (!(await confirmManaged(o, action))) {
    say("Nothing changed.");
    return false;
  }
  try {
    await api("PATCH", path, { body, ifMatch: o.etag });
    say(done);
    return true;
  } catch (error) {
    say(`Failed: ${error.message}`);
    return false;
  }
}

/** Edit targets for a forwarding alias: an inline form of comma-separated addresses. */
function editTargets(domain, alias, reload) {
  const cell = h("div");
  const open = () => {
    const input = h("input", {
      id: `targets-${alias.address}`,
      type: "text",
      value: alias.action.to.join(", "),
      size: "40",
    });
    const form = h(
      "form",
      { class: "inline-edit", "aria-label": `Targets of ${alias.address}` },
      h("label", { for: input.id }, `Targets of ${alias.address} (comma-separated)`),
      input,
      h("button", { type: "submit" }, "Save"),
      h(
        "button",
        { type: "button", class: "secondary", onclick: () => cell.replaceChildren(start) },
        "Cancel",
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const to = input.value
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a !== "");
      const path = `${base(domain)}/aliases/${encodeURIComponent(alias.address)}`;
      const action = `Change the targets of ${alias.address}`;
      if (
        await change(
          alias,
          path,
          { action: { type: "forward", to } },
          action,
          `Saved the targets of ${alias.address}.`,
        )
      ) {
        await reload();
      }
    });
    cell.replaceChildren(form);
    input.focus();
  };
  const start = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-label": `Edit targets of ${alias.address}`,
      onclick: open,
    },
    "Edit targets",
  );
  cell.append(start);
  return cell;
}

/** Disable or Enable for a user, asking first when a stack declares the user. */
function toggle(domain, user, reload) {
  const disabling = user.enabled !== false;
  const action = `${disabling ? "Disable" : "Enable"} ${user.address}`;
  return h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-label": action,
      onclick: async () => {
        const path = `${base(domain)}/users/${encodeURIComponent(user.address)}`;
        const done = `${disabling ? "Disabled" : "Enabled"} ${user.address}.`;
        if (await change(user, path, { enabled: !disabling }, action, done)) await reload();
      },
    },
    disabling ? "Disable" : "Enable",
  );
}
