/** AES-256-GCM for what the platform stores but must read back: the DKIM private key, replayable Idempotency-Key answers. */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A sealed text: its IV (12 random bytes, fresh per seal), GCM tag and ciphertext, each base64. */
export interface SealedText {
  iv: string;
  tag: string;
  data: string;
}

/**
 * Seals `plaintext` under a 32-byte key.
 * @example const sealed = sealText(masterKey, privateKeyPem);
 */
export function sealText(key: Buffer, plaintext: string): SealedText {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

/**
 * Opens what {@link sealText} sealed.
 * @throws Error when `key` is not the key it was sealed with, or the sealed text was altered
 */
export function openText(key: Buffer, sealed: SealedText): string {
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"));
  decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
  return Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString(
    "utf8",
  );
}

/** Where `mailplane serve` keeps the master key when MAILPLANE_MASTER_KEY is not given. */
export const MASTER_KEY_FILE = "master-key";

/**
 * The master key that seals secrets the platform itself must be able to read back (the DKIM private
 * key): MAILPLANE_MASTER_KEY (base64 of 32 bytes — give every node sharing a PostgreSQL store the
 * same one), else `<dataDir>/master-key`, created on first start with mode 0600.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const given = env.MAILPLANE_MASTER_KEY;
  if (given !== undefined && given !== "") {
    const key = Buffer.from(given, "base64");
    if (key.length !== 32) throw new Error("MAILPLANE_MASTER_KEY must be the base64 of 32 bytes");
    return key;
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // wx: two processes starting at once never overwrite each other's key.
    try {
      writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${path} must hold the base64 of 32 bytes`);
  return key;
}
