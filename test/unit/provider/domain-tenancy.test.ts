/** DomainTenancy's check and diff in process: keyed maps, property paths, passwords kept, replacement on a new name. */
import { describe, expect, it } from "vitest";
import { domainTenancyProvider } from "../../../provider/src/resources/domain-tenancy.ts";

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
  it("normalises every object, keeps the maps keyed by object name and the passwords as given", async () => {
    const { inputs, failures } = await domainTenancyProvider.check!(
      {},
      news({ [`ana@${D}`]: { address: `ana@${D}`, password: "Kq7-Secret-0001" } }),
    );
    expect(failures).toEqual([]);
    expect(Object.keys(inputs.users)).toEqual([`ana@${D}`]);
    expect(inputs.users[`ana@${D}`]).toMatchObject({
      address: `ana@${D}`,
      enabled: true,
      password: "Kq7-Secret-0001",
    });
    expect(inputs.aliases[`info@${D}`].action.to).toEqual([`ana@${D}`]);
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

  it("passes a password whose value is not known yet (preview) without judging it", async () => {
    const { failures } = await domainTenancyProvider.check!(
      {},
      news({ [`ana@${D}`]: { address: `ana@${D}`, password: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } }),
    );
    expect(failures).toEqual([]);
  });
});

describe("DomainTenancy diff", () => {
  it("leaves the field diff to the engine and replaces the tenancy, old one first, when the domain name changes", async () => {
    const same = await domainTenancyProvider.diff!(D, { domain: { name: D } }, { domain: { name: D } });
    expect(same).toEqual({ changes: undefined, replaces: [], deleteBeforeReplace: false });
    const renamed = await domainTenancyProvider.diff!(
      D,
      { domain: { name: D } },
      { domain: { name: "example.org" } },
    );
    expect(renamed).toEqual({ changes: undefined, replaces: ["domain"], deleteBeforeReplace: true });
  });

  it("replaces the tenancy when its connection moves to another endpoint or account, created there first; a new token alone does not", async () => {
    const at = (connection: Record<string, unknown>) => ({ domain: { name: D }, connection });
    const a = { endpoint: "https://a.example", token: "mpt_a" };
    const moved = await domainTenancyProvider.diff!(
      D,
      at(a),
      at({ endpoint: "https://b.example", token: "mpt_b" }),
    );
    expect(moved).toEqual({ changes: undefined, replaces: ["connection"], deleteBeforeReplace: false });
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
