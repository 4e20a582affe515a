/** An independent verifier in its own process: reads `{ message, txt }` as JSON on stdin, verifies the message's ARC chain and DKIM signatures with mailauth against only those TXT records, prints the results as JSON. */
import { authenticate } from "mailauth";

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const { message, txt } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
  message: string;
  txt: Record<string, string>;
};
// DNS as node:dns answers TXT (a list of string lists), from the published records alone.
const resolver = async (name: string, type: string) => {
  const value = type === "TXT" ? txt[name.toLowerCase()] : undefined;
  if (value === undefined) throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
  return [value.match(/.{1,255}/g)];
};
const result = await authenticate(Buffer.from(message, "latin1"), {
  ip: "192.0.2.1",
  helo: "verifier.example",
  mta: "verifier.example",
  sender: "",
  resolver: resolver as never,
  disableBimi: true,
  disableDmarc: true,
});
const arc = result.arc || undefined;
const dkim = result.dkim.results.map((r) => ({
  domain: r.signingDomain,
  selector: r.selector,
  algorithm: r.algo,
  result: r.status.result,
}));
process.stdout.write(
  `${JSON.stringify({ result: arc?.status.result, comment: arc?.status.comment ?? null, i: arc?.i ?? null, dkim })}\n`,
);
