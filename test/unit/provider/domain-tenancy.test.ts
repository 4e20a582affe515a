/** DomainTenancy's check and diff in process: keyed maps of JSON texts, property paths, passwords apart, replacement on a new name. */
import { describe, expect, it } from "vitest";
import { domainTenancyProvider } from "../../../provider/src/resources/domain-tenancy.ts";
import {
  decodeState,
  encodeState,
  propertyPath,
  propsOf,
} from "../../../provider/src/resources/domain-tenancy-state.ts";

const D = "example.com";
const news = (users: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({
  domain: { name: D },
  routes: {},
  aliases: { [`info@${D}`]: { address: `info@${D}`, action: { type: "forward", to: [`ana@${D}`] } } },
  senderLists: {},
  groups: {},
  users,
  ...extra,
});

describe("DomainTenancy check", () => {
  it("normalises every object into one JSON text per object, keyed by object name, and keeps the passwords apart as given", async () => {
    const { inputs, failures } = await domainTenancyProvider.check!(
      {},
      encodeState(news({ [`ana@${D}`]: { address: `ana@${D}`, password: "Kq7-Secret-0001" } })),
    );
    expect(failures).toEqual([]);
    expect(Object.keys(inputs.users)).toEqual([`ana@${D}`]);
    expect(typeof inputs.users[`ana@${D}`]).toBe("string");
    expect(JSON.parse(inputs.users[`ana@${D}`])).toMatchObject({ address: `ana@${D}`, enabled: true });
    expect(inputs.users[`ana@${D}`]).not.toContain("Kq7-Secret-0001");
    expect(inputs.passwords).toEqual({ [`ana@${D}`]: "Kq7-Secret-0001" });
    expect(JSON.parse(inputs.aliases[`info@${D}`]).action.to).toEqual([`ana@${D}`]);
  });

  it("keeps each singleton — filter settings, password policy, report settings — and names a bad field at its path", async () => {
    const { inputs, failures } = await domainTenancyProvider.check!(
      {},
      news(
        {},
        {
          filterSettings: { scope: D, quarantineDays: 14 },
          passwordPolicy: { scope: D, minLength: 12 },
          reportSettings: { scope: D, userReport: true },
        },
      ),
    );
    expect(failures).toEqual([]);
    expect(inputs.filterSettings).toMatchObject({ scope: D, quarantineDays: 14 });
    expect(inputs.passwordPolicy).toMatchObject({ scope: D, minLength: 12 });
    expect(inputs.reportSettings).toMatchObject({ scope: D, userReport: true });
    const bad = await domainTenancyProvider.check!(
      {},
      news({}, { reportSettings: { scope: D, frequency: "hourly" } }),
    );
    expect(bad.failures?.map((f) => f.property)).toEqual(["reportSettings.frequency"]);
  });

  it("reports every invalid object at its property path, by object name rather than list index", async () => {
    const { failures } = await domainTenancyProvider.check!(
      {},
      news(
        {
          [`ana@${D}`]: { address: `ana@${D}`, quotaMb: -1 },
          [`bob@${D}`]: { address: `bob@${D}`, role: "emperor" },
        },
        { routes: { "mx1.example.net:70000": { domain: D, host: "mx1.example.net", port: 70000 } } },
      ),
    );
    expect(failures?.map((f) => f.property).sort()).toEqual([
      'routes["mx1.example.net:70000"].port',
      `users["ana@${D}"].quotaMb`,
      `users["bob@${D}"].role`,
    ]);
  });

  it("passes passwords not known yet (preview) without judging them, and keeps them unknown", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const { inputs, failures } = await domainTenancyProvider.check!(
      {},
      { ...encodeState(news({ [`ana@${D}`]: { address: `ana@${D}` } })), passwords: unknown },
    );
    expect(failures).toEqual([]);
    expect(inputs.passwords).toBe(unknown);
  });
});

describe("DomainTenancy state", () => {
  it("holds each object as a JSON text and the passwords in a map apart, and reads back the same tenancy", () => {
    const tenancy = news({ [`ana@${D}`]: { address: `ana@${D}`, password: "Kq7-Secret-0001" } });
    const state = encodeState(tenancy);
    expect(state.users[`ana@${D}`]).toBe(JSON.stringify({ address: `ana@${D}` }));
    expect(state.passwords).toEqual({ [`ana@${D}`]: "Kq7-Secret-0001" });
    expect(decodeState(state)).toEqual(tenancy);
  });

  it("reads the form earlier releases wrote (a tree per object, the password in its user)", () => {
    const tenancy = news({ [`ana@${D}`]: { address: `ana@${D}`, password: "Kq7-Secret-0001" } });
    expect(decodeState(tenancy)).toEqual(tenancy);
  });
});

describe("DomainTenancy diff", () => {
  it("finds no change between equal tenancies, one in the form earlier releases wrote, and replaces the tenancy, old one first, on a new domain name", async () => {
    const checked = encodeState(news({ [`ana@${D}`]: { address: `ana@${D}` } }));
    const same = await domainTenancyProvider.diff!(D, { ...checked, etag: "e1" }, checked);
    expect(same).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    const legacy = await domainTenancyProvider.diff!(
      D,
      { ...news({ [`ana@${D}`]: { address: `ana@${D}` } }), etag: "e1" },
      checked,
    );
    expect(legacy.changes).toBe(false);
    const renamed = await domainTenancyProvider.diff!(
      D,
      { domain: { name: D } },
      { domain: { name: "example.org" } },
    );
    expect(renamed).toEqual({ changes: true, replaces: ["domain"], deleteBeforeReplace: true });
  });

  it("finds a change in one field of one object, and in one password", async () => {
    const before = encodeState(news({ [`ana@${D}`]: { address: `ana@${D}`, password: "Kq7-Secret-0001" } }));
    const field = encodeState(
      news({ [`ana@${D}`]: { address: `ana@${D}`, enabled: false, password: "Kq7-Secret-0001" } }),
    );
    expect((await domainTenancyProvider.diff!(D, before, field)).changes).toBe(true);
    const password = encodeState(
      news({ [`ana@${D}`]: { address: `ana@${D}`, password: "Kq7-Secret-0002" } }),
    );
    expect((await domainTenancyProvider.diff!(D, before, password)).changes).toBe(true);
  });

  it("replaces the tenancy when its connection moves to another endpoint or account, created there first; a new token alone does not", async () => {
    const at = (connection: Record<string, unknown>) => ({ domain: { name: D }, connection });
    const a = { endpoint: "https://a.example", token: "mpt_a" };
    const moved = await domainTenancyProvider.diff!(
      D,
      at(a),
      at({ endpoint: "https://b.example", token: "mpt_b" }),
    );
    expect(moved).toEqual({ changes: true, replaces: ["connection"], deleteBeforeReplace: false });
    const account = await domainTenancyProvider.diff!(
      D,
      at({ ...a, account: "acme" }),
      at({ ...a, account: "other" }),
    );
    expect(account.replaces).toEqual(["connection"]);
    const rotated = await domainTenancyProvider.diff!(D, at(a), at({ ...a, token: "mpt_a2" }));
    expect(rotated.replaces).toEqual([]);
  });
});

describe("DomainTenancy connection", () => {
  it("refuses at check a connection naming an endpoint without its own token, before anything is sent", async () => {
    const { failures } = await domainTenancyProvider.check!(
      {},
      news({}, { connection: { endpoint: "https://b.example" } }),
    );
    expect((failures ?? []).map((f) => f.property)).toEqual(["connection.token"]);
  });

  it("keeps the connection in the checked inputs, beside the document", async () => {
    const connection = { endpoint: "https://b.example", token: "mpt_b" };
    const { inputs, failures } = await domainTenancyProvider.check!(
      { ...news({}), connection },
      news({}, { connection }),
    );
    expect(failures).toEqual([]);
    expect(inputs.connection).toEqual(connection);
    expect(inputs.domain).toMatchObject({ name: D });
  });
});

describe("DomainTenancy property paths", () => {
  it("names a plan's refusal of a user's extra address at users[\"<address>\"].addresses[i]", () => {
    const props = propsOf({
      domains: [{ name: D }],
      users: [
        { address: `ana@${D}`, addresses: [`sales@${D}`] },
        { address: `bob@${D}`, addresses: [`info@${D}`, `sales@${D}`] },
      ],
    });
    expect(propertyPath(props, ["users", 1, "addresses", 1])).toBe(`users["bob@${D}"].addresses[1]`);
    expect(propertyPath(props, ["users", 0, "address"])).toBe(`users["ana@${D}"].address`);
  });
});
