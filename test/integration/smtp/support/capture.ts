/** A real downstream SMTP peer (smtp-server) that keeps every message it takes byte for byte. */
import { SMTPServer } from "smtp-server";

/** One transaction the downstream server took, bytes as sent. */
export interface Received {
  from: string;
  to: string[];
  raw: string;
}

/**
 * Starts a capturing SMTP server on 127.0.0.1:0 (no AUTH, no STARTTLS).
 *
 * @example const capture = await startCapture(); … capture.received[0].raw; await capture.close();
 */
export async function startCapture(): Promise<{
  port: number;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("latin1"),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
