/** A process that supervises rspamd in the directory given as its argument and prints the process IDs once rspamd answers; the test kills it. */
import { startRspamd } from "../../../../platform/smtp/content/rspamd-supervisor.ts";

const rspamd = await startRspamd({ dir: process.argv[2]!, persist: false });
process.stdout.write(`${JSON.stringify(rspamd.pids())}\n`);
setInterval(() => {}, 60_000);
