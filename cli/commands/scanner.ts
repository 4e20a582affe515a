/** The scanners of `mailplane serve` and `mailplane smtp`: spam (a supervised rspamd, an existing one, or the built-in rules) and viruses (a supervised clamd, an existing one, or none). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClamdScanner, clamdAddress } from "../../platform/smtp/content/clamav.ts";
import { DEFAULT_CLAMD_DATABASE, startClamd } from "../../platform/smtp/content/clamd-supervisor.ts";
import { RspamdScorer } from "../../platform/smtp/content/rspamd.ts";
import {
  RSPAMD_VERIFIED_SETTINGS_ID,
  rspamdInstalled,
  type SupervisedRspamd,
  startRspamd,
} from "../../platform/smtp/content/rspamd-supervisor.ts";
import { UsageError } from "../command.ts";

/** The help lines of the scanner flags, shared by `mailplane smtp` and `mailplane serve`. */
export const SCANNER_HELP = `  --rspamd <auto|off>            spam scoring: auto starts and supervises rspamd + Redis (config, Bayes
                                 data in <data-dir>/rspamd; no network lookups) when both are installed,
                                 else the built-in rules; off: the built-in rules [$MAILPLANE_RSPAMD, default auto]
  --rspamd-url <url>             score with an rspamd already running there (its normal worker, e.g.
                                 http://127.0.0.1:11333, or unix:/run/rspamd/normal.sock for its Unix
                                 socket: no TCP connection per check) instead of starting one
                                 [$MAILPLANE_RSPAMD_URL]
  --rspamd-controller-url <url>  with --rspamd-url: that rspamd's controller worker (e.g.
                                 http://127.0.0.1:11334), which spam/ham reports train; default none:
                                 reports are refused (422) [$MAILPLANE_RSPAMD_CONTROLLER_URL]
  --rspamd-controller-password-file <path>
                                 a file holding the controller's password (sent as rspamd's Password
                                 header; one line, never logged) [$MAILPLANE_RSPAMD_CONTROLLER_PASSWORD_FILE]
  --rspamd-settings-id <id|none>  the rspamd settings each check selects (its Settings-ID header):
                                 mailplane-verified skips the SPF, DKIM, DMARC and ARC checks the engine
                                 made itself (the generated config defines it); none: rspamd's own
                                 settings [$MAILPLANE_RSPAMD_SETTINGS_ID, default mailplane-verified for
                                 a supervised rspamd, none with --rspamd-url]
  --clamd <auto|socket|host:port|off>
                                 scan filtered mail for viruses with clamd (infected: quarantined as
                                 virus; clamd down: DATA answered 451 4.7.1 so the sender retries).
                                 auto starts and supervises clamd (config and socket in
                                 <data-dir>/clamav; an error when clamd is not installed); a socket path
                                 or TCP address uses a clamd already running there [$MAILPLANE_CLAMD,
                                 default off]
  --clamd-database <dir>         signatures the supervised clamd loads (--clamd auto); kept up to date
                                 by freshclam [$MAILPLANE_CLAMD_DATABASE, default ${DEFAULT_CLAMD_DATABASE}]
`;

/** The flags of the scanner, for parseFlags. */
export const SCANNER_FLAGS = {
  rspamd: { type: "string" },
  "rspamd-url": { type: "string" },
  "rspamd-controller-url": { type: "string" },
  "rspamd-controller-password-file": { type: "string" },
  "rspamd-settings-id": { type: "string" },
  clamd: { type: "string" },
  "clamd-database": { type: "string" },
} as const;

/** The chosen scanner: the scorer given to the engine (none: built-in rules), a start-up line, and how to stop it. */
export interface Scanner {
  rspamd: RspamdScorer | undefined;
  /** The virus scanner (`--clamd`); none: no virus scanning. */
  clamd?: ClamdScanner;
  /** What scans for viruses, for the start-up output, e.g. "clamd (supervised, /data/clamav/clamd.sock)". */
  clamdDescription?: string;
  /** What scores spam, for the start-up output, e.g. "rspamd (supervised, http://127.0.0.1:40123)". */
  description: string;
  close(): Promise<void>;
}

/**
 * Reads `--rspamd` / `--rspamd-url` and starts what they ask for. A supervised rspamd that does
 * not answer `/ping` in time is stopped and the built-in rules are used (told on stderr): a
 * missing scanner must not keep the mail server down.
 * @throws UsageError for a value other than auto/off or a URL that is not http(s)
 * @example (await scannerFrom(opt, ".data", io)).description // "built-in rules (--rspamd off)"
 */
export async function scannerFrom(
  opt: (flag: string, env: string) => string | undefined,
  dataDir: string,
  warn: (message: string) => void,
): Promise<Scanner> {
  const clamd = clamdFrom(opt);
  const database = opt("clamd-database", "MAILPLANE_CLAMD_DATABASE");
  if (database !== undefined && clamd !== "auto") {
    throw new UsageError("--clamd-database applies only to --clamd auto (a supervised clamd)");
  }
  // Started first: when it cannot start (not installed, no signatures) nothing else was started.
  const supervised =
    clamd === "auto"
      ? await startClamd({
          dir: join(dataDir, "clamav"),
          ...(database ? { databaseDir: database } : {}),
          onWarning: warn,
        })
      : undefined;
  let spam: Scanner;
  try {
    spam = await spamScannerFrom(opt, dataDir, warn);
  } catch (error) {
    await supervised?.close();
    throw error;
  }
  if (supervised) {
    return {
      ...spam,
      clamd: new ClamdScanner({ address: { path: supervised.socket } }),
      clamdDescription: `clamd (supervised, ${supervised.socket})`,
      close: async () => {
        await spam.close();
        await supervised.close();
      },
    };
  }
  return clamd instanceof ClamdScanner
    ? { ...spam, clamd, clamdDescription: `clamd at ${clamd.description}` }
    : spam;
}

/**
 * Reads `--clamd` / `MAILPLANE_CLAMD`: unset, empty or `off` → no virus scanning; `auto` → a
 * supervised clamd (started by {@link scannerFrom}); else the scanner of an existing clamd.
 * @throws UsageError for a value that is neither auto/off, a socket path nor host:port
 * @example (clamdFrom(() => "/run/clamav/clamd.ctl") as ClamdScanner).description // "/run/clamav/clamd.ctl"
 */
export function clamdFrom(
  opt: (flag: string, env: string) => string | undefined,
): ClamdScanner | "auto" | undefined {
  const value = opt("clamd", "MAILPLANE_CLAMD");
  if (value === undefined || value === "" || value === "off") return undefined;
  if (value === "auto") return "auto";
  try {
    return new ClamdScanner({ address: clamdAddress(value) });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function spamScannerFrom(
  opt: (flag: string, env: string) => string | undefined,
  dataDir: string,
  warn: (message: string) => void,
): Promise<Scanner> {
  const mode = opt("rspamd", "MAILPLANE_RSPAMD") ?? "auto";
  if (mode !== "auto" && mode !== "off") {
    throw new UsageError(`--rspamd must be auto or off, got ${JSON.stringify(mode)}`);
  }
  const url = opt("rspamd-url", "MAILPLANE_RSPAMD_URL");
  const controller = controllerFrom(opt, url);
  const settings = settingsIdFrom(opt, url);
  const none = async () => {};
  if (mode === "off") return { rspamd: undefined, description: "built-in rules (--rspamd off)", close: none };
  if (url !== undefined) {
    if (!HTTP_URL.test(url) && !UNIX_URL.test(url)) {
      throw new UsageError(
        `--rspamd-url must be an http:// or https:// URL or unix:<absolute socket path>, got ${JSON.stringify(url)}`,
      );
    }
    const learning = controller
      ? `; reports train its controller at ${controller.controllerUrl}${controller.controllerPassword === undefined ? "" : " (with a password)"}`
      : "; reports refused: no --rspamd-controller-url";
    return {
      rspamd: new RspamdScorer({ url, ...controller, ...settings, onWarning: warn }),
      description: `rspamd at ${url} (built-in rules while it does not answer${learning}${settingsNote(settings)})`,
      close: none,
    };
  }
  if (!rspamdInstalled()) {
    return {
      rspamd: undefined,
      description: "built-in rules (rspamd or redis-server not installed)",
      close: none,
    };
  }
  let supervised: SupervisedRspamd;
  try {
    supervised = await startRspamd({ dir: join(dataDir, "rspamd"), onWarning: warn });
  } catch (error) {
    warn(`rspamd did not start: ${(error as Error).message}`);
    return { rspamd: undefined, description: "built-in rules (rspamd did not start)", close: none };
  }
  return {
    // The controller too: spam/ham reports train its Bayes classifier.
    rspamd: new RspamdScorer({
      url: supervised.url,
      controllerUrl: supervised.controllerUrl,
      ...settings,
      onWarning: warn,
    }),
    description: `rspamd (supervised, ${supervised.url}, config in ${join(dataDir, "rspamd")}${settingsNote(settings)})`,
    close: () => supervised.close(),
  };
}

const HTTP_URL = /^https?:\/\/[^/\s]+/;
/** A normal worker's Unix socket: `unix:/run/rspamd/normal.sock`. */
const UNIX_URL = /^unix:\/[^\s]*[^/\s]$/;

/** The start-up line's note of the settings each check selects; empty without. */
function settingsNote(settings: { settingsId?: string }): string {
  return settings.settingsId ? `; Settings-ID ${settings.settingsId}` : "";
}

/** An rspamd settings ID as its settings module names them (and safe in a header: no spaces or CR/LF). */
const SETTINGS_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads `--rspamd-settings-id` (`MAILPLANE_RSPAMD_SETTINGS_ID`): the settings every check selects.
 * Default {@link RSPAMD_VERIFIED_SETTINGS_ID} for a supervised rspamd (its generated config defines
 * them), none with `--rspamd-url` (an rspamd of the operator's, which may not).
 * @example settingsIdFrom(opt, undefined) // { settingsId: "mailplane-verified" }
 * @throws UsageError for an ID that is not letters, digits, ".", "_" or "-" (at most 64)
 */
export function settingsIdFrom(
  opt: (flag: string, env: string) => string | undefined,
  url: string | undefined,
): { settingsId?: string } {
  const value = opt("rspamd-settings-id", "MAILPLANE_RSPAMD_SETTINGS_ID");
  if (value === undefined || value === "")
    return url === undefined ? { settingsId: RSPAMD_VERIFIED_SETTINGS_ID } : {};
  if (value === "none") return {};
  if (!SETTINGS_ID.test(value)) {
    throw new UsageError(
      `--rspamd-settings-id must be none or an rspamd settings ID (letters, digits, ".", "_", "-"; at most 64), got ${JSON.stringify(value)}`,
    );
  }
  return { settingsId: value };
}

/**
 * Reads `--rspamd-controller-url` and `--rspamd-controller-password-file` (with their env vars):
 * both unset → undefined. The password is the file's first line (a trailing newline is not part of
 * it); the file's name may appear in an error, its content never.
 * @throws UsageError for a controller without --rspamd-url, a password file without a controller,
 *   a URL that is not http(s), or a password file that cannot be read or is empty
 * @example controllerFrom(opt, "http://127.0.0.1:11333") // { controllerUrl: "http://127.0.0.1:11334", controllerPassword: "…" }
 */
export function controllerFrom(
  opt: (flag: string, env: string) => string | undefined,
  url: string | undefined,
): { controllerUrl: string; controllerPassword?: string } | undefined {
  const controllerUrl = opt("rspamd-controller-url", "MAILPLANE_RSPAMD_CONTROLLER_URL");
  const passwordFile = opt("rspamd-controller-password-file", "MAILPLANE_RSPAMD_CONTROLLER_PASSWORD_FILE");
  if (controllerUrl === undefined) {
    if (passwordFile !== undefined) {
      throw new UsageError("--rspamd-controller-password-file needs --rspamd-controller-url");
    }
    return undefined;
  }
  if (url === undefined) {
    throw new UsageError(
      "--rspamd-controller-url needs --rspamd-url (a supervised rspamd's controller is known already)",
    );
  }
  if (!HTTP_URL.test(controllerUrl)) {
    throw new UsageError(
      `--rspamd-controller-url must be an http:// or https:// URL, got ${JSON.stringify(controllerUrl)}`,
    );
  }
  if (passwordFile === undefined) return { controllerUrl };
  let text: string;
  try {
    text = readFileSync(passwordFile, "utf8");
  } catch (error) {
    throw new UsageError(
      `--rspamd-controller-password-file ${JSON.stringify(passwordFile)} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  const password = text.split(/\r?\n/)[0] ?? "";
  if (password === "") {
    throw new UsageError(
      `--rspamd-controller-password-file ${JSON.stringify(passwordFile)} is empty: its first line is the password`,
    );
  }
  return { controllerUrl, controllerPassword: password };
}
