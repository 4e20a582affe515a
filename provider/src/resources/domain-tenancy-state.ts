/** How a DomainTenancy's document is held in the Pulumi state: keyed maps of JSON texts, passwords apart. */
import { toDotPath } from "../../../sdk/src/errors.ts";
import { AliasSpec } from "../../../sdk/src/models/alias.ts";
import { GroupSpec } from "../../../sdk/src/models/group.ts";
import { RouteSpec, routeName } from "../../../sdk/src/models/route.ts";
import { SenderListSpec, senderListName } from "../../../sdk/src/models/sender-list.ts";
import { TENANCY_API_VERSION } from "../../../sdk/src/models/tenancy.ts";
import { UserSpec } from "../../../sdk/src/models/user.ts";

export type Props = Record<string, any>;

/**
 * The document's lists held as maps by each object's name, so a preview names the object that
 * changes (`users: { ana@example.com: (json) { enabled: true => false } }`) rather than a list index.
 */
export const KEYED = {
  routes: { spec: RouteSpec, key: (s: Props) => routeName(s as never) },
  aliases: { spec: AliasSpec, key: (s: Props) => String(s.address) },
  senderLists: { spec: SenderListSpec, key: (s: Props) => senderListName(s as never) },
  users: { spec: UserSpec, key: (s: Props) => String(s.address) },
  groups: { spec: GroupSpec, key: (s: Props) => String(s.address) },
} as const;
export type Keyed = keyof typeof KEYED;
export const KEYED_LISTS = Object.keys(KEYED) as Keyed[];

/** The singletons: the document's one-element lists, held as a single object. */
export const SINGLE = {
  filterSettings: "filterSettings",
  passwordPolicies: "passwordPolicy",
  reportSettings: "reportSettings",
} as const;

/**
 * The working form of a tenancy from a document: `domain`, keyed maps of objects, singletons (absent
 * ones left out). Users keep a password written in the document.
 */
export function propsOf(document: Props): Props {
  const props: Props = { domain: document.domains?.[0] };
  for (const list of KEYED_LISTS) {
    const map: Props = {};
    for (const item of (document[list] ?? []) as Props[]) map[KEYED[list].key(item)] = item;
    props[list] = map;
  }
  for (const [plural, single] of Object.entries(SINGLE)) {
    const item = (document[plural] ?? [])[0];
    if (item !== undefined) props[single] = item;
  }
  return props;
}

/** The API document from the working form (lists in map order). */
export function documentOf(props: Props): Props {
  const document: Props = { apiVersion: TENANCY_API_VERSION, domains: props.domain ? [props.domain] : [] };
  for (const list of KEYED_LISTS) document[list] = Object.values(props[list] ?? {});
  for (const [plural, single] of Object.entries(SINGLE))
    document[plural] = props[single] ? [props[single]] : [];
  return document;
}

/**
 * A document path (`users[3].enabled`, as the model and the API report it) as the property path of
 * this resource (`users["ana@example.com"].enabled`).
 */
export function propertyPath(props: Props, path: readonly PropertyKey[]): string {
  const [head, index, ...rest] = path.filter((p): p is string | number => typeof p !== "symbol");
  if (head === "domains") return toDotPath(["domain", ...rest]);
  if (typeof head === "string" && head in SINGLE) {
    return toDotPath([SINGLE[head as keyof typeof SINGLE], ...rest]);
  }
  if (typeof head === "string" && KEYED_LISTS.includes(head as Keyed) && typeof index === "number") {
    const key = Object.keys(props[head] ?? {})[index];
    return toDotPath([head, key ?? index, ...rest]);
  }
  return toDotPath([head ?? "", ...(index === undefined ? [] : [index]), ...rest]);
}

/** The users' passwords of the working form, by address. */
export function passwordsOf(props: Props): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [address, user] of Object.entries((props.users ?? {}) as Props)) {
    // A user the passwords input has no entry for arrives with a null (secret) password: none.
    if (user?.password !== undefined && user.password !== null) out[address] = user.password;
  }
  return out;
}

/** The working form with its users' passwords left out (copies: the engine's objects are not touched). */
export function withoutPasswords(props: Props): Props {
  const users: Props = {};
  for (const [address, user] of Object.entries((props.users ?? {}) as Props)) {
    const { password: _password, ...rest } = user as Props;
    users[address] = rest;
  }
  return { ...props, users };
}

/** The working form with each user's password set from `passwords` where the user exists. */
export function withPasswords(props: Props, passwords: Record<string, unknown>): Props {
  const users: Props = {};
  for (const [address, user] of Object.entries((props.users ?? {}) as Props)) {
    users[address] = passwords[address] === undefined ? user : { ...user, password: passwords[address] };
  }
  return { ...props, users };
}

/**
 * The state's form of a tenancy (inputs and outputs alike): each object of a keyed map as one JSON
 * text, and the users' passwords in a `passwords` map of their own (each a secret in the state).
 *
 * Why texts: the Pulumi engine, the CLI and the SDK pay per property value on every call (decoding,
 * secret and unknown checks, the encrypted run log), and a tenancy of 10,000 objects is ~100,000 values
 * as a tree but 10,000 as texts; a no-op preview of such a tenancy went from ~19 s to a few seconds
 * (docs/scale.md). The CLI decodes a JSON text for display, so `pulumi preview --diff` still shows
 * the object and the field that change. Properties other than the working form's (`adopt`, the
 * connection, `etag`) pass through.
 */
export function encodeState(props: Props): Props {
  const { users: _users, ...rest } = props;
  const state: Props = { ...rest };
  for (const list of KEYED_LISTS) {
    const map: Props = {};
    for (const [key, item] of Object.entries((props[list] ?? {}) as Props)) {
      const { password: _password, ...fields } = item as Props;
      map[key] = JSON.stringify(list === "users" ? fields : item);
    }
    state[list] = map;
  }
  const passwords = passwordsOf(props);
  if (Object.keys(passwords).length > 0) state.passwords = passwords;
  return state;
}

/**
 * The working form from the state's form. Also reads the form earlier releases wrote, where each
 * object was a nested tree and each password sat in its user, so a stack written before keeps working
 * (its next `up` writes the new form without a change on the platform).
 */
export function decodeState(state: Props): Props {
  const { passwords, ...rest } = state;
  const props: Props = { ...rest };
  for (const list of KEYED_LISTS) {
    const map: Props = {};
    for (const [key, item] of Object.entries((state[list] ?? {}) as Props)) {
      map[key] = typeof item === "string" ? JSON.parse(item) : item;
    }
    props[list] = map;
  }
  return passwords === undefined || passwords === null
    ? props
    : withPasswords(props, passwords as Record<string, unknown>);
}
