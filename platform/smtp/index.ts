/** The SMTP engine's public surface: start it, feed it a policy, reach its operations. */
export type { DnsResolver, SpfResult } from "./content/spf.ts";
export { NO_DNS, tableResolver } from "./content/spf.ts";
export { maildirOf } from "./delivery/maildir.ts";
export type { Hop } from "./delivery/relay.ts";
export { startSmtpEngine, staticPolicy } from "./engine.ts";
export type { ListenAddress, PolicySource, SmtpEngine, SmtpEngineOptions } from "./engine-contract.ts";
export type { DomainStatistics, LogEntry, LogQuery, MessageLog } from "./message-log/entry.ts";
export type { SmtpOperations } from "./operations.ts";
export type { CredentialSource } from "./phases/auth.ts";
export { buildPolicySnapshot, type PolicySnapshot, type TenancyInput } from "./policy/snapshot.ts";
export type { QuarantineEntry } from "./quarantine/store.ts";
export type { QueueView } from "./spool/queue.ts";
