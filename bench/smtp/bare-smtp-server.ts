/**
 * smtp-server with nothing behind it: every command accepted, the payload read and discarded. The
 * library the engine is built on, running empty — what any engine on it can reach at most.
 *
 *   node bench/smtp/bare-smtp-server.ts <port>
 */
import { SMTPServer } from "smtp-server";

const port = Number(process.argv[2]);
const server = new SMTPServer({
  disabledCommands: ["AUTH", "STARTTLS"],
  authOptional: true,
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    stream.on("data", () => {});
    stream.on("end", () => callback());
  },
});
server.listen(port, "127.0.0.1", () => process.stdout.write("listening\n"));
