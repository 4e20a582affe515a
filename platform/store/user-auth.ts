/** The store's user sign-in state, written once over the SqlExecutor seam: sessions, TOTP and recovery codes, application passwords. */
import type { AppPasswordScope } from "../../sdk/src/models/session.ts";
import type {
  AppPasswordRecord,
  NewUserSession,
  UserAuthStore,
  UserSessionRecord,
  UserSessionStage,
  UserTotpRecord,
} from "./contract/user-auth-store.ts";
import type { WriteContext } from "./contract/write-context.ts";
import type { AuditWriter } from "./login-lockouts.ts";
import type { SqlExecutor } from "./sql.ts";

type Row = Record<string, unknown>;
const s = (v: unknown) => String(v);
const sn = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toSession(r: Row): UserSessionRecord {
  return {
    id: s(r.id),
    accountId: s(r.account_id),
    userId: s(r.user_id),
    stage: s(r.stage) as UserSessionStage,
    ip: s(r.ip),
    createdAt: s(r.created_at),
    lastSeenAt: s(r.last_seen_at),
    revokedAt: sn(r.revoked_at),
  };
}

function toAppPassword(r: Row): AppPasswordRecord {
  return {
    id: s(r.id),
    accountId: s(r.account_id),
    userId: s(r.user_id),
    name: s(r.name),
    scopes: JSON.parse(s(r.scopes)) as AppPasswordScope[],
    prefix: s(r.prefix),
    createdAt: s(r.created_at),
    lastUsedAt: sn(r.last_used_at),
    revokedAt: sn(r.revoked_at),
  };
}

/** Writes a user's audit entry: kind User, the address as object ID. */
function userAudit(
  audit: AuditWriter,
  q: SqlExecutor,
  ctx: WriteContext,
  accountId: string,
  userId: string,
  action: string,
  after: unknown,
): Promise<void> {
  return audit(q, ctx, { accountId, action, kind: "User", objectId: userId, before: null, after });
}

/** See {@link UserAuthStore.createUserSession}. */
export async function createSession(
  q: SqlExecutor,
  input: NewUserSession,
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<void> {
  if (input.replaces !== undefined) {
    await q.run("UPDATE user_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [
      input.replaces,
      input.at,
    ]);
  }
  await q.run(
    `INSERT INTO user_sessions (id, secret_hash, account_id, user_id, stage, ip, created_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
    [input.id, input.secretHash, input.accountId, input.userId, input.stage, input.ip, input.at],
  );
  await userAudit(audit, q, ctx, input.accountId, input.userId, input.replaces ? "sign-in-step" : "sign-in", {
    session: input.id,
    stage: input.stage,
    ip: input.ip,
  });
}

/** See {@link UserAuthStore.findUserSession}. */
export async function findSession(
  q: SqlExecutor,
  secretHash: string,
): Promise<UserSessionRecord | undefined> {
  const rows = await q.all("SELECT * FROM user_sessions WHERE secret_hash = $1", [secretHash]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

/** See {@link UserAuthStore.touchUserSession}. */
export async function touchSession(q: SqlExecutor, id: string, at: string): Promise<void> {
  await q.run("UPDATE user_sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2", [id, at]);
}

/** See {@link UserAuthStore.revokeUserSessions}. */
export async function revokeSessions(
  q: SqlExecutor,
  accountId: string,
  userId: string,
  at: string,
  exceptId?: string,
): Promise<number> {
  return q.run(
    "UPDATE user_sessions SET revoked_at = $3 WHERE account_id = $1 AND user_id = $2 AND revoked_at IS NULL AND id <> $4",
    [accountId, userId, at, exceptId ?? ""],
  );
}

/** See {@link UserAuthStore.endUserSession}. */
export async function endSession(
  q: SqlExecutor,
  id: string,
  at: string,
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<void> {
  const rows = await q.all("SELECT * FROM user_sessions WHERE id = $1", [id]);
  const row = rows[0];
  if (!row) return;
  await q.run("UPDATE user_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [id, at]);
  const session = toSession(row);
  await userAudit(audit, q, ctx, session.accountId, session.userId, "sign-out", { session: id });
}

/** See {@link UserAuthStore.getUserTotp}. */
export async function getTotp(
  q: SqlExecutor,
  accountId: string,
  userId: string,
): Promise<UserTotpRecord | undefined> {
  const rows = await q.all("SELECT * FROM user_totp WHERE account_id = $1 AND user_id = $2", [
    accountId,
    userId,
  ]);
  const r = rows[0];
  if (!r) return undefined;
  const left = await q.all<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM user_recovery_codes WHERE account_id = $1 AND user_id = $2",
    [accountId, userId],
  );
  return {
    accountId,
    userId,
    sealedSecret: s(r.sealed_secret),
    createdAt: s(r.created_at),
    confirmedAt: sn(r.confirmed_at),
    lastStep: r.last_step === null || r.last_step === undefined ? null : Number(r.last_step),
    recoveryCodesLeft: Number(left[0]?.n ?? 0),
  };
}

/** See {@link UserAuthStore.enrolUserTotp}. */
export async function enrolTotp(
  q: SqlExecutor,
  input: { accountId: string; userId: string; sealedSecret: string; recoveryHashes: string[]; at: string },
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<boolean> {
  const { accountId, userId } = input;
  const current = await q.all("SELECT confirmed_at FROM user_totp WHERE account_id = $1 AND user_id = $2", [
    accountId,
    userId,
  ]);
  if (current[0] && current[0].confirmed_at !== null) return false;
  await q.run("DELETE FROM user_totp WHERE account_id = $1 AND user_id = $2", [accountId, userId]);
  await q.run("DELETE FROM user_recovery_codes WHERE account_id = $1 AND user_id = $2", [accountId, userId]);
  await q.run(
    "INSERT INTO user_totp (account_id, user_id, sealed_secret, created_at) VALUES ($1, $2, $3, $4)",
    [accountId, userId, input.sealedSecret, input.at],
  );
  for (const hash of new Set(input.recoveryHashes)) {
    await q.run("INSERT INTO user_recovery_codes (account_id, user_id, code_hash) VALUES ($1, $2, $3)", [
      accountId,
      userId,
      hash,
    ]);
  }
  await userAudit(audit, q, ctx, accountId, userId, "totp-enrol", {
    recoveryCodes: input.recoveryHashes.length,
  });
  return true;
}

/** See {@link UserAuthStore.useTotpStep}. */
export async function useStep(
  q: SqlExecutor,
  input: { accountId: string; userId: string; step: number; at: string; confirm: boolean },
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<boolean> {
  const { accountId, userId, step } = input;
  // One conditional UPDATE: the row's last step decides, so a replayed or concurrent code loses.
  const confirmed = input.confirm ? "confirmed_at IS NULL" : "confirmed_at IS NOT NULL";
  const changed = await q.run(
    `UPDATE user_totp SET last_step = $3${input.confirm ? ", confirmed_at = $4" : ""}
     WHERE account_id = $1 AND user_id = $2 AND ${confirmed} AND (last_step IS NULL OR last_step < $3)`,
    input.confirm ? [accountId, userId, step, input.at] : [accountId, userId, step],
  );
  if (changed === 1 && input.confirm) {
    await userAudit(audit, q, ctx, accountId, userId, "totp-confirm", {});
  }
  return changed === 1;
}

/** See {@link UserAuthStore.useRecoveryCode}. */
export async function useRecovery(
  q: SqlExecutor,
  accountId: string,
  userId: string,
  codeHash: string,
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<boolean> {
  const changed = await q.run(
    "DELETE FROM user_recovery_codes WHERE account_id = $1 AND user_id = $2 AND code_hash = $3",
    [accountId, userId, codeHash],
  );
  if (changed !== 1) return false;
  const left = await q.all<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM user_recovery_codes WHERE account_id = $1 AND user_id = $2",
    [accountId, userId],
  );
  await userAudit(audit, q, ctx, accountId, userId, "recovery-code", { left: Number(left[0]?.n ?? 0) });
  return true;
}

/** See {@link UserAuthStore.removeUserTotp}. */
export async function removeTotp(
  q: SqlExecutor,
  accountId: string,
  userId: string,
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<boolean> {
  const n = await q.run("DELETE FROM user_totp WHERE account_id = $1 AND user_id = $2", [accountId, userId]);
  await q.run("DELETE FROM user_recovery_codes WHERE account_id = $1 AND user_id = $2", [accountId, userId]);
  if (n > 0) await userAudit(audit, q, ctx, accountId, userId, "totp-remove", {});
  return n > 0;
}

/** See {@link UserAuthStore.createAppPassword}. */
export async function createAppPassword(
  q: SqlExecutor,
  input: Omit<AppPasswordRecord, "lastUsedAt" | "revokedAt"> & { secretHash: string },
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<void> {
  await q.run(
    `INSERT INTO app_passwords (id, account_id, user_id, name, scopes, prefix, secret_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      input.id,
      input.accountId,
      input.userId,
      input.name,
      JSON.stringify(input.scopes),
      input.prefix,
      input.secretHash,
      input.createdAt,
    ],
  );
  await userAudit(audit, q, ctx, input.accountId, input.userId, "app-password-create", {
    id: input.id,
    name: input.name,
    scopes: input.scopes,
  });
}

/** See {@link UserAuthStore.listAppPasswords}. */
export async function listAppPasswords(
  q: SqlExecutor,
  accountId: string,
  userId: string,
): Promise<AppPasswordRecord[]> {
  const rows = await q.all(
    "SELECT * FROM app_passwords WHERE account_id = $1 AND user_id = $2 ORDER BY created_at, id",
    [accountId, userId],
  );
  return rows.map(toAppPassword);
}

/** See {@link UserAuthStore.findAppPassword}. */
export async function findAppPassword(
  q: SqlExecutor,
  secretHash: string,
): Promise<AppPasswordRecord | undefined> {
  const rows = await q.all("SELECT * FROM app_passwords WHERE secret_hash = $1", [secretHash]);
  return rows[0] ? toAppPassword(rows[0]) : undefined;
}

/** See {@link UserAuthStore.revokeAppPassword}. */
export async function revokeAppPassword(
  q: SqlExecutor,
  input: { accountId: string; userId: string; id: string; at: string },
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<AppPasswordRecord | undefined> {
  const rows = await q.all("SELECT * FROM app_passwords WHERE id = $1 AND account_id = $2 AND user_id = $3", [
    input.id,
    input.accountId,
    input.userId,
  ]);
  if (!rows[0]) return undefined;
  await q.run("UPDATE app_passwords SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [
    input.id,
    input.at,
  ]);
  const after = await q.all("SELECT * FROM app_passwords WHERE id = $1", [input.id]);
  await userAudit(audit, q, ctx, input.accountId, input.userId, "app-password-revoke", { id: input.id });
  return toAppPassword(after[0]!);
}

/** See {@link UserAuthStore.touchAppPassword}. */
export async function touchAppPassword(q: SqlExecutor, id: string, at: string): Promise<void> {
  await q.run("UPDATE app_passwords SET last_used_at = $2 WHERE id = $1", [id, at]);
}

/** Deletes every sign-in row of a user (the User is being deleted), in the caller's transaction. */
export async function forgetUser(q: SqlExecutor, accountId: string, userId: string): Promise<void> {
  for (const table of ["user_sessions", "user_totp", "user_recovery_codes", "app_passwords"]) {
    await q.run(`DELETE FROM ${table} WHERE account_id = $1 AND user_id = $2`, [accountId, userId]);
  }
}
