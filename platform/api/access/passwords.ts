/** Password hashing for users: argon2id from node:crypto (no native add-on), stored as a PHC string. */
import { argon2, createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB; default 19,456 (19 MiB, OWASP's minimum recommendation for argon2id). */
  memory: number;
  /** Iterations; default 2. */
  passes: number;
  /** Lanes; default 1. */
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet's argon2id baseline (m=19 MiB, t=2, p=1): about 25 ms here. */
export const DEFAULT_ARGON2: Argon2Params = { memory: 19_456, passes: 2, parallelism: 1 };

const TAG_LENGTH = 32;

function derive(password: string, salt: Buffer, params: Argon2Params): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      "argon2id",
      {
        message: password,
        nonce: salt,
        parallelism: params.parallelism,
        tagLength: TAG_LENGTH,
        memory: params.memory,
        passes: params.passes,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/**
 * Hashes a password with a fresh 16-byte salt.
 *
 * @returns `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (unpadded base64, as the PHC format says)
 * @example const hash = await hashPassword("Correct-Horse-7");
 */
export async function hashPassword(password: string, params: Argon2Params = DEFAULT_ARGON2): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");
  return `$argon2id$v=19$m=${params.memory},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(key)}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * The argon2id parameters a PHC string made by {@link hashPassword} records, or undefined for other formats.
 *
 * @example argon2ParamsOf(await hashPassword("x")) // { memory: 19456, passes: 2, parallelism: 1 }
 */
export function argon2ParamsOf(phc: string): Argon2Params | undefined {
  const m = PHC.exec(phc);
  if (!m) return undefined;
  return { memory: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
}

/**
 * Checks a password against a PHC string made by {@link hashPassword} (with whatever parameters it
 * records), in constant time. Unknown formats never match.
 *
 * @example if (await verifyPassword(candidate, stored)) { … }
 */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = PHC.exec(phc);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, "base64");
  const key = await derive(password, Buffer.from(m[4]!, "base64"), {
    memory: Number(m[1]),
    passes: Number(m[2]),
    parallelism: Number(m[3]),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** The visible start of every application password (`mpa_…`). */
export const APP_PASSWORD_PREFIX = "mpa_";

/**
 * sha256 of an application password, hex: all the store keeps. Its 120 random bits need no slow
 * hash, and a hash lookup lets SMTP AUTH find it without trying each of the user's passwords.
 *
 * @example hashAppPassword("mpa_…").length // 64
 */
export function hashAppPassword(secret: string): string {
  return createHash("sha256").update(`app-password:${secret}`, "utf8").digest("hex");
}
