/** Header parsing by library (RFC 2047 words, address lists), Authentication-Results stripping and the DMARC verdict. */
import { DkimVerifier } from "mailauth/lib/dkim/dkim-verifier.js";
import { describe, expect, it, vi } from "vitest";
import { authservIdOf, InboundAuthenticator } from "../../../platform/smtp/content/auth.ts";
import { applyEdits } from "../../../platform/smtp/content/headers.ts";
import { MessageScanner } from "../../../platform/smtp/content/scan.ts";
import { dataVerdict } from "../../../platform/smtp/phases/data.ts";
import { buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";
import { snapshot } from "./fixtures.ts";

async function scanOf(text: string) {
  const scanner = new MessageScanner();
  scanner.write(Buffer.from(text));
  return scanner.end();
}

const message = (head: string) =>
  `${head}To: alice@example.com\r\nDate: Sat, 31 Jan 2026 12:00:00 +0000\r\nMessage-ID: <m@x>\r\n\r\nHello\r\n`;

describe("header parsing", () => {
  it("takes the author from the address, never from a display name that looks like one", async () => {
    const quoted = await scanOf(message('From: "x <boss@trusted.example>" <a@evil.example>\r\n'));
    expect(quoted.headers.from).toBe("a@evil.example");
    const encoded = await scanOf(message("From: =?utf-8?q?boss=40trusted=2Eexample?= <a@evil.example>\r\n"));
    expect(encoded.headers.from).toBe("a@evil.example");
    const encodedAngle = await scanOf(
      message(
        `From: =?utf-8?b?${Buffer.from("<boss@trusted.example>").toString("base64")}?= <a@evil.example>\r\n`,
      ),
    );
    expect(encodedAngle.headers.from).toBe("a@evil.example");
  });

  it("has no single author when From: holds two mailboxes or appears twice", async () => {
    expect(
      (await scanOf(message("From: a@evil.example, boss@trusted.example\r\n"))).headers.from,
    ).toBeUndefined();
    expect(
      (await scanOf(message("From: boss@trusted.example\r\nFrom: a@evil.example\r\n"))).headers.from,
    ).toBeUndefined();
  });

  it("decodes RFC 2047 encoded words and raw UTF-8 in the subject, line breaks and NULs becoming spaces", async () => {
    const words = await scanOf(
      message("From: a@b.example\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?b?4A==?=\r\n"),
    );
    expect(words.headers.subject).toBe("Grüßeà");
    const raw = await scanOf(message("From: a@b.example\r\nSubject: Grüße aus Köln\r\n"));
    expect(raw.headers.subject).toBe("Grüße aus Köln");
    const breaks = await scanOf(message("From: a@b.example\r\nSubject: =?utf-8?q?one=0D=0ABcc:_x=00y?=\r\n"));
    expect(breaks.headers.subject).toBe("one Bcc: x y");
  });

  it("lists the authserv-ids of the Authentication-Results fields present", async () => {
    const s = await scanOf(
      message(
        "From: a@b.example\r\nAuthentication-Results: MX.Example.COM (ours?);\r\n dkim=pass\r\nAuthentication-Results: other.example 1; spf=pass\r\n",
      ),
    );
    expect(s.headers.authservIds).toEqual(["mx.example.com", "other.example"]);
    expect(authservIdOf(' "mx.example.com"; none')).toBe("mx.example.com");
  });
});

describe("stripping forged Authentication-Results (RFC 8601 §5)", () => {
  const raw = Buffer.from(
    "Authentication-Results: mx.example.com;\r\n\tdkim=pass header.d=bank.example\r\nSubject: hi\r\nAuthentication-Results: other.example; spf=pass\r\nauthentication-results: MX.EXAMPLE.COM; dmarc=pass\r\n\r\nAuthentication-Results: mx.example.com; body line\r\n",
  );

  it("removes every field with our authserv-id, folded lines included, and keeps the others and the body", () => {
    const out = applyEdits(raw, {
      prepend: ["Authentication-Results: mx.example.com; spf=none"],
      subjectPrefix: null,
      stripAuthResults: "mx.example.com",
    }).toString();
    expect(out).toBe(
      "Authentication-Results: mx.example.com; spf=none\r\nSubject: hi\r\nAuthentication-Results: other.example; spf=pass\r\n\r\nAuthentication-Results: mx.example.com; body line\r\n",
    );
  });

  it("leaves the message byte-identical without the edit", () => {
    expect(applyEdits(raw, { prepend: [], subjectPrefix: null }).equals(raw)).toBe(true);
  });
});

describe("dataVerdict with DMARC", () => {
  const follow = snapshot.domains.get("example.com")!;
  const ignore = buildPolicySnapshot({
    revision: 1,
    accounts: [
      {
        id: "a",
        domains: [{ name: "example.com" }],
        users: [{ address: "alice@example.com" }],
        filterSettings: [{ scope: "example.com", dmarcPolicy: "ignore" }],
      },
    ],
  }).domains.get("example.com")!;
  const run = async (
    domain: typeof follow,
    dmarc: { result: "fail" | "pass"; policy: "reject" | "quarantine" | "none" },
  ) =>
    dataVerdict({
      domain,
      filtered: true,
      authenticated: false,
      sender: "x@other.example",
      recipients: ["alice@example.com"],
      remoteAddress: "192.0.2.10",
      scan: await scanOf(message("From: ceo@bank.example\r\n")),
      spf: { result: "none" },
      dmarc: { ...dmarc, fromDomain: "bank.example" },
    });

  it("refuses a DMARC failure of a p=reject domain with 550 5.7.1", async () => {
    expect(await run(follow, { result: "fail", policy: "reject" })).toMatchObject({
      action: "reject",
      code: 550,
      enhanced: "5.7.1",
      tag: "dmarc",
    });
  });

  it("quarantines a DMARC failure of a p=quarantine domain", async () => {
    expect(await run(follow, { result: "fail", policy: "quarantine" })).toMatchObject({
      action: "accept",
      value: { disposition: "quarantine", classification: "dmarc-fail" },
    });
  });

  it("delivers DMARC failures with dmarcPolicy ignore, and p=none failures and passes always", async () => {
    for (const [domain, dmarc] of [
      [ignore, { result: "fail", policy: "reject" }],
      [follow, { result: "fail", policy: "none" }],
      [follow, { result: "pass", policy: "reject" }],
    ] as const) {
      expect(await run(domain, dmarc)).toMatchObject({ action: "accept", value: { disposition: "deliver" } });
    }
  });
});

describe("InboundAuthenticator", () => {
  it("answers dkim=temperror and dmarc=temperror once the cap passes while the sender's DNS never answers", async () => {
    const lookups: string[] = [];
    const silent = (name: string) => {
      lookups.push(name);
      return new Promise<unknown[]>(() => {});
    };
    const auth = new InboundAuthenticator({
      authservId: "mx.example.com",
      resolver: silent,
      maxElapsedMs: 50,
    });
    auth.write(
      Buffer.from(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=slow.example; s=s1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\nFrom: a@slow.example\r\n\r\n",
      ),
    );
    const result = await auth.end({
      spf: { result: "none", info: "spf=none smtp.mailfrom=a@slow.example" },
      ip: "192.0.2.1",
    });
    expect(lookups).toContain("s1._domainkey.slow.example");
    expect(result.dmarc).toEqual({ result: "temperror", fromDomain: null, policy: "none" });
    expect(result.header).toBe(
      "Authentication-Results: mx.example.com;\r\n\tspf=none smtp.mailfrom=a@slow.example;\r\n\tdkim=temperror (verification timed out);\r\n\tdmarc=temperror (verification timed out)",
    );
    // A chain nobody could judge gets no ARC set on a forward (a guess of cv= would lie).
    expect(result.arc).toBeNull();
  });

  it("hands a forward cv=none and its own Authentication-Results for a message without an ARC chain", async () => {
    const auth = new InboundAuthenticator({ authservId: "mx.example.com", resolver: async () => [] });
    auth.write(Buffer.from("From: a@plain.example\r\nSubject: hi\r\n\r\nHello\r\n"));
    const result = await auth.end({ spf: null, ip: "192.0.2.1" });
    expect(result.arc).toEqual({
      cv: "none",
      authResults: result.header.slice("Authentication-Results: ".length),
    });
  });

  describe("a message naming no DKIM-Signature or ARC field", () => {
    // bank.example publishes p=reject; SPF passes for it, so DMARC can pass aligned or fail.
    const resolver = async (name: string, type: string) => {
      if (type === "TXT" && name === "_dmarc.bank.example") return [["v=DMARC1; p=reject"]];
      const err = new Error(`no ${type} for ${name}`) as NodeJS.ErrnoException;
      err.code = "ENOTFOUND";
      throw err;
    };
    const spf = {
      result: "pass",
      domain: "bank.example",
      info: "spf=pass smtp.mailfrom=ceo@bank.example",
    } as const;
    const verdict = async (chunks: string[]) => {
      const write = vi.spyOn(DkimVerifier.prototype, "write");
      try {
        const auth = new InboundAuthenticator({ authservId: "mx.example.com", resolver });
        for (const c of chunks) auth.write(Buffer.from(c));
        const result = await auth.end({ spf, ip: "192.0.2.1" });
        return { result, bytesStreamed: write.mock.calls.length };
      } finally {
        write.mockRestore();
      }
    };
    const body = "\r\nHello,\r\n\r\nthe body is not hashed: nothing signs it.\r\n";
    const heads = [
      "From: CEO <ceo@bank.example>\r\nSubject: aligned\r\n",
      "From: ceo@other.example\r\nSubject: not aligned\r\n",
      "From: a@bank.example\r\nFrom: b@bank.example\r\n",
      "From: Board: ceo@bank.example, cfo@bank.example;\r\n",
      "Subject: no author\r\nReturn-Path: <x@bank.example>\r\n",
    ];

    it("hands mailauth the header block alone, even when it straddles chunks, with the verdict of the whole message", async () => {
      for (const head of heads) {
        const text = `${head}To: alice@example.com\r\n${body}`;
        const split = text.indexOf("Subject") > 0 ? text.indexOf("Subject") + 3 : 7;
        const shortcut = await verdict([
          text.slice(0, split),
          text.slice(split, split + 20),
          text.slice(split + 20),
        ]);
        // A field that mentions "arc-" sends the message through mailauth whole; it changes no result.
        const whole = await verdict([`${head}X-Note: arc-less\r\nTo: alice@example.com\r\n${body}`]);
        expect(shortcut.bytesStreamed).toBe(0);
        expect(whole.bytesStreamed).toBeGreaterThan(0);
        expect(shortcut.result).toEqual(whole.result);
      }
      const aligned = await verdict([`${heads[0]}${body}`]);
      expect(aligned.result.dmarc).toEqual({ result: "pass", fromDomain: "bank.example", policy: "reject" });
      const forged = await verdict([`${heads[1]!.replace("other.example", "evil.example")}${body}`]);
      expect(forged.result.header).toContain("dkim=none");
    });

    it("streams a message with a DKIM-Signature, an ARC field, a bare LF or no empty line through mailauth whole", async () => {
      for (const text of [
        `DKIM-Signature: v=1; d=bank.example; s=s1; h=from; bh=x; b=y\r\n${heads[0]}${body}`,
        `ARC-Seal: i=1; a=rsa-sha256; cv=none; d=fwd.example; s=s1; b=x\r\n${heads[0]}${body}`,
        `${heads[0]}X-Bare: lf\n${body}`,
        "From: ceo@bank.example\r\nSubject: headers only\r\n",
        `\r\n${heads[0]}`,
      ]) {
        expect((await verdict([text])).bytesStreamed).toBeGreaterThan(0);
      }
    });
  });
});
