/** STARTTLS material (RFC 3207): a given certificate, or a self-signed one generated on first start and reused. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "selfsigned";

/** A PEM key and certificate. */
export interface TlsMaterial {
  key: string;
  cert: string;
}

/**
 * Returns `given` when set; otherwise `<dir>/smtp-key.pem` and `<dir>/smtp-cert.pem`, generating a
 * self-signed pair (RSA 2048, SHA-256, ten years, SAN = hostname, localhost, 127.0.0.1) the first
 * time. The key file is written with mode 0600. Clients of a reference platform accept the
 * self-signed certificate for encryption; production deployments pass their own.
 *
 * @example const tls = await tlsMaterial("/data/tls", "mx.example.test");
 */
export async function tlsMaterial(dir: string, hostname: string, given?: TlsMaterial): Promise<TlsMaterial> {
  if (given) return given;
  const keyPath = join(dir, "smtp-key.pem");
  const certPath = join(dir, "smtp-cert.pem");
  if (existsSync(keyPath) && existsSync(certPath)) {
    return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8") };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = new Date();
  const pems = await generate([{ name: "commonName", value: hostname }], {
    // RSA: selfsigned 5.5's EC path fails ("Cannot get schema for 'AlgorithmIdentifier'").
    keyType: "rsa",
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 3650 * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert };
}
