/** RFC 6238 codes computed by Python's hmac, independently of the platform's TOTP code, for the sign-in tests. */
import { execFileSync } from "node:child_process";

/**
 * The 6-digit TOTP code of a base32 secret at `unixMs`: HMAC-SHA1 over the 8-byte big-endian
 * 30-second step, dynamic truncation (RFC 4226 §5.3), as Python's standard library computes it.
 *
 * @example pythonTotp("JBSWY3DPEHPK3PXP", Date.now()) // "492039"
 */
export function pythonTotp(base32Secret: string, unixMs: number): string {
  const script = [
    "import base64, hashlib, hmac, struct, sys",
    "s = sys.argv[1]",
    "key = base64.b32decode(s + '=' * (-len(s) % 8))",
    "mac = hmac.new(key, struct.pack('>Q', int(sys.argv[2]) // 30), hashlib.sha1).digest()",
    "o = mac[-1] & 15",
    "print('%06d' % ((struct.unpack('>I', mac[o:o + 4])[0] & 0x7fffffff) % 1000000))",
  ].join("\n");
  return execFileSync("python3", ["-c", script, base32Secret, String(Math.floor(unixMs / 1000))], {
    encoding: "utf8",
  }).trim();
}
