/** AES-256-GCM for what the platform stores but must read back: the DKIM private key, replayable Idempotency-Key answers. */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

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
