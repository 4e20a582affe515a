/** Route: defaults, host normalisation, port bounds and the ID/path forms. */
import { describe, expect, it } from "vitest";
import { parseRouteName, RoutePatch, RouteSpec, routeId } from "../../../../sdk/src/models/route.ts";
import { issues } from "./helpers.ts";

describe("RouteSpec", () => {
  it("defaults port 25, priority 10 and opportunistic TLS", () => {
    expect(RouteSpec.parse({ domain: "example.com", host: "mx1.example.net" })).toEqual({
      domain: "example.com",
      host: "mx1.example.net",
      port: 25,
      priority: 10,
      tls: "opportunistic",
    });
  });

  it("normalises host names, IDN and IPv6 literals", () => {
    expect(RouteSpec.parse({ domain: "EXAMPLE.com", host: "MX1.Bücher.de" }).host).toBe(
      "mx1.xn--bcher-kva.de",
    );
    expect(RouteSpec.parse({ domain: "example.com", host: "[2001:DB8:0::1]" }).host).toBe("2001:db8::1");
    expect(RouteSpec.parse({ domain: "example.com", host: "127.0.0.1" }).host).toBe("127.0.0.1");
    expect(RouteSpec.parse({ domain: "example.com", host: "localhost" }).host).toBe("localhost");
  });

  it("rejects ports outside 1–65535 and fractional ports", () => {
    expect(issues(RouteSpec, { domain: "example.com", host: "mx", port: 0 })).toEqual([
      "port: Too small: expected number to be >=1",
    ]);
    expect(issues(RouteSpec, { domain: "example.com", host: "mx", port: 65_536 })).toEqual([
      "port: Too big: expected number to be <=65535",
    ]);
    expect(issues(RouteSpec, { domain: "example.com", host: "mx", port: 25.5 })[0]).toMatch(/^port: /);
  });

  it("rejects a bad host and an unknown TLS mode with their paths", () => {
    expect(issues(RouteSpec, { domain: "example.com", host: "mx one", tls: "always" })).toEqual([
      "host: must be a host name, an IPv4 address or an IPv6 address",
      'tls: Invalid option: expected one of "none"|"opportunistic"|"required"',
    ]);
  });
});

describe("routeId", () => {
  it("is domain/routes/host:port, IPv6 in brackets", () => {
    expect(routeId(RouteSpec.parse({ domain: "example.com", host: "mx1.example.net" }))).toBe(
      "example.com/routes/mx1.example.net:25",
    );
    expect(routeId(RouteSpec.parse({ domain: "example.com", host: "2001:db8::1", port: 2525 }))).toBe(
      "example.com/routes/[2001:db8::1]:2525",
    );
  });

  it("parses route names back into host and port", () => {
    expect(parseRouteName("MX1.example.net:25")).toEqual({ host: "mx1.example.net", port: 25 });
    expect(parseRouteName("[2001:db8::1]:2525")).toEqual({ host: "2001:db8::1", port: 2525 });
    expect(parseRouteName("mx1.example.net")).toBeUndefined();
  });
});

describe("RoutePatch", () => {
  it("changes priority and TLS only", () => {
    expect(RoutePatch.parse({ priority: 5 })).toEqual({ priority: 5 });
    expect(issues(RoutePatch, { port: 26 })[0]).toMatch(/Unrecognized key/);
  });
});

describe("RouteSpec TLS verification options", () => {
  const pin = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  it("takes key pins and certificate fingerprints with tls: required, canonicalising fingerprints", () => {
    const hex = "ab".repeat(32);
    const spec = RouteSpec.parse({ domain: "example.com", host: "mx", tls: "required", tlsPins: [pin, hex] });
    expect(spec.tlsPins).toEqual([pin, `${"AB:".repeat(31)}AB`]);
  });

  it("refuses pins without tls: required, and malformed pins or CAs, naming the field", () => {
    expect(issues(RouteSpec, { domain: "example.com", host: "mx", tlsPins: [pin] })).toEqual([
      'tlsPins: needs tls: "required"',
    ]);
    expect(
      issues(RouteSpec, { domain: "example.com", host: "mx", tls: "required", tlsPins: ["md5/xyz"] })[0],
    ).toMatch(/^tlsPins\[0\]: must be "sha256\//);
    expect(
      issues(RouteSpec, { domain: "example.com", host: "mx", tls: "required", tlsCa: "not a pem" }),
    ).toEqual(["tlsCa: must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)"]);
  });
});
