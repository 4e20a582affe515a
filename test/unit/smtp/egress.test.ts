/** The egress policy: which addresses the relay may reach, the `--allow-route-cidr` list, and refused MX hops. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { egressFrom } from "../../../cli/commands/smtp.ts";
import { NO_DNS, tableResolver } from "../../../platform/smtp/content/spf.ts";
import {
  addressLookup,
  EgressPolicy,
  embeddedIpv4,
  parseCidrList,
  specialPurpose,
} from "../../../platform/smtp/delivery/egress.ts";
import { Relay } from "../../../platform/smtp/delivery/relay.ts";

describe("specialPurpose", () => {
  it.each([
    ["169.254.169.254", "169.254.0.0/16"],
    ["127.0.0.1", "127.0.0.0/8"],
    ["10.0.0.1", "10.0.0.0/8"],
    ["172.31.255.255", "172.16.0.0/12"],
    ["192.168.1.1", "192.168.0.0/16"],
    ["100.64.0.1", "100.64.0.0/10"],
    ["0.0.0.0", "0.0.0.0/8"],
    ["224.0.0.251", "224.0.0.0/4"],
    ["255.255.255.255", "255.255.255.255/32"],
    ["::1", "::1/128"],
    ["::", "::/128"],
    ["fe80::1%eth0", "fe80::/10"],
    ["fd00::1", "fc00::/7"],
    ["ff02::1", "ff00::8"],
  ])("names %s as special (%s)", (address, block) => {
    expect(specialPurpose(address)?.block.replace("ff00::/8", "ff00::8")).toBe(block);
  });

  it("judges the IPv4-mapped, NAT64 and 6to4 forms by the IPv4 address they carry", () => {
    expect(embeddedIpv4("::ffff:169.254.169.254")).toBe("169.254.169.254");
    expect(embeddedIpv4("64:ff9b::a00:1")).toBe("10.0.0.1");
    expect(embeddedIpv4("2002:7f00:1::")).toBe("127.0.0.1");
    expect(specialPurpose("::ffff:7f00:1")?.block).toBe("127.0.0.0/8");
    expect(specialPurpose("64:ff9b::808:808")).toBeUndefined();
  });

  it("lets ordinary global unicast addresses through", () => {
    for (const address of ["8.8.8.8", "93.184.215.14", "2606:4700::1111"]) {
      expect(specialPurpose(address)).toBeUndefined();
    }
  });
});

describe("EgressPolicy", () => {
  it("refuses special addresses unless allowed, and own listeners always", () => {
    const egress = new EgressPolicy({
      allow: ["127.0.0.0/8"],
      listeners: [{ host: "127.0.0.1", port: 2525 }],
      localAddresses: () => ["127.0.0.1", "203.0.113.9"],
    });
    expect(egress.refusal("10.0.0.1", 25)).toBe("10.0.0.1 is a private address (10.0.0.0/8)");
    expect(egress.refusal("127.0.0.1", 2526)).toBeUndefined();
    expect(egress.refusal("::ffff:127.0.0.1", 2526)).toBeUndefined();
    expect(egress.refusal("127.0.0.1", 2525)).toBe("127.0.0.1:2525 is one of the platform's own listeners");
    egress.addListener({ host: "0.0.0.0", port: 8080 });
    expect(egress.refusal("203.0.113.9", 8080)).toBe(
      "203.0.113.9:8080 is one of the platform's own listeners",
    );
    expect(egress.refusal("127.0.0.5", 8080)).toBe("127.0.0.5:8080 is one of the platform's own listeners");
  });

  it("checks IP literals and localhost when a route is written, and leaves other names to delivery", () => {
    const egress = new EgressPolicy();
    expect(egress.routeRefusal("[::1]", 25)).toBe("::1 is a loopback address (::1/128)");
    expect(egress.routeRefusal("LocalHost.", 25)).toMatch(/^LocalHost\. is always loopback: /);
    expect(egress.routeRefusal("mx1.example.org", 25)).toBeUndefined();
    expect(new EgressPolicy({ allow: ["127.0.0.1", "::1"] }).routeRefusal("localhost", 25)).toBeUndefined();
  });
});

describe("--allow-route-cidr", () => {
  it("takes repeated flags and comma lists, else MAILPLANE_ALLOW_ROUTE_CIDR, and nothing by default", () => {
    const flags = egressFrom({ "allow-route-cidr": ["127.0.0.1/32, 10.0.0.0/8", "::1"] }, {});
    expect(["127.0.0.1", "10.9.9.9", "::1"].map((a) => flags.allowed.has(a))).toEqual([true, true, true]);
    const env = egressFrom({}, { MAILPLANE_ALLOW_ROUTE_CIDR: "192.168.0.0/16" });
    expect(env.allowed.has("192.168.4.4")).toBe(true);
    expect(egressFrom({}, {}).allowed.size).toBe(0);
  });

  it("refuses an entry that is not an address or block, naming it", () => {
    expect(() => egressFrom({ "allow-route-cidr": ["10.0.0.0/33"] }, {})).toThrow(UsageError);
    expect(() => parseCidrList("127.0.0.1, nonsense")).toThrow("not an IP address or CIDR block: nonsense");
    expect(() => parseCidrList("10.0.0.0/")).toThrow("bad prefix in 10.0.0.0/");
  });
});

describe("Relay and the egress policy", () => {
  it("fails an MX hop whose every address is refused (5.4.4) without connecting", async () => {
    const lookup = addressLookup(
      tableResolver({ "A mx.far.example": ["10.0.0.1"], "AAAA mx.far.example": ["fd00::25"] }),
    );
    const relay = new Relay({ name: "mx.test", lookup, connectTimeoutMs: 1 });
    const [result] = await relay.send(
      [{ host: "mx.far.example", port: 25, tls: "opportunistic", source: "mx" }],
      "a@b.example",
      ["c@far.example"],
      Buffer.from("Subject: x\r\n\r\nx\r\n"),
    );
    relay.close();
    expect(result).toMatchObject({ status: "failed", statusCode: "5.4.4" });
    expect(result!.detail).toContain("10.0.0.1 is a private address (10.0.0.0/8)");
    expect(result!.detail).toContain("fd00::25 is a unique local address (fc00::/7)");
  });

  it("fails a REQUIRETLS message for an MX hop (no DNSSEC-validated MX, RFC 8689 §4.2.1) with 5.7.30", async () => {
    const relay = new Relay({ name: "mx.test", lookup: addressLookup(NO_DNS) });
    const [result] = await relay.send(
      [{ host: "203.0.113.25", port: 25, tls: "opportunistic", source: "mx" }],
      "a@b.example",
      ["c@far.example"],
      Buffer.from("x"),
      { requireTls: true },
    );
    relay.close();
    expect(result).toMatchObject({ status: "failed", statusCode: "5.7.30" });
  });
});
