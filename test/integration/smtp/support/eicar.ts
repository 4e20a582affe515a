/** The EICAR test file and a ClamAV signature database for it that a test writes itself (no signature download). */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The EICAR anti-virus test file (68 bytes): harmless, detected by every scanner given its signature. */
export const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
export const SIGNATURE = "Mailplane.Test.EICAR";
/** What clamd reports: a signature from a database it cannot verify is marked unofficial. */
export const FOUND = `${SIGNATURE}.UNOFFICIAL`;

/**
 * Writes a one-signature database into `dir` (created): a hash signature (MD5:size:name, ClamAV's
 * .hdb format) of the EICAR file. Returns `dir`.
 * @example const db = writeEicarDatabase(join(tmp, "db"));
 */
export function writeEicarDatabase(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const md5 = createHash("md5").update(EICAR).digest("hex");
  writeFileSync(join(dir, "mailplane-test.hdb"), `${md5}:${EICAR.length}:${SIGNATURE}\n`);
  return dir;
}
