/** The store's domain names: which Domain, in any account, holds each name, and the proof that its account owns it. */
import type { StoredObject } from "./object-store.ts";
import type { WriteContext } from "./write-context.ts";

/** Where one name of a Domain (its name or a domain alias) stands in proving the account owns it. */
export interface DomainVerificationRecord {
  name: string;
  status: "pending" | "verified";
  /** How it was verified; null while pending. */
  method: "dns" | "admin" | null;
  verifiedAt: string | null;
  /** The last DNS check: when, its result (`verified`, `missing`, `mismatch`, `error`) and its words. */
  checkedAt: string | null;
  checkResult: string | null;
  checkDetail: string | null;
  /** When the name was first checked or marked. */
  createdAt: string;
}

/** A name some Domain holds, its holder, and its verification (null: pending, never checked). */
export interface DomainNameHold {
  name: string;
  accountId: string;
  /** The holding Domain's name (its ID); equals `name` unless `name` is a domain alias. */
  domain: string;
  verification: DomainVerificationRecord | null;
}

/** Input of {@link DomainNameStore.recordDomainCheck}. */
export interface DomainCheckInput {
  accountId: string;
  /** The Domain's ID. */
  domain: string;
  /** The domain's name or one of its domain aliases. */
  name: string;
  /** What a DNS check found (`verified`, `missing`, `mismatch`, `error`); absent for an admin's mark. */
  check?: { result: string; detail: string };
  /** Marks the name verified (unless it is already): its record was found (`dns`) or an admin said so. */
  verifiedBy?: "dns" | "admin";
}

/** Another Domain holding one of the names a write claims (see {@link PutObjectInput.claims}). */
export interface DomainClaim {
  accountId: string;
  /** The Domain's name (its ID). */
  domain: string;
  /** Which of the names asked for it holds, as its name or a domain alias. */
  names: string[];
  /** Which of those it holds verified. */
  verified: string[];
}

/**
 * Domain names across accounts: who holds each name, and its ownership verification.
 *
 * @example
 * const [hold] = await store.domainNames(["example.com"]);
 * hold?.verification?.status; // "verified", "pending", or undefined: never checked
 */
export interface DomainNameStore {
  /** Every name a Domain holds (or only these), with its holder and verification, in any account. */
  domainNames(names?: readonly string[]): Promise<DomainNameHold[]>;
  /**
   * Records a DNS check of one of a Domain's names and/or marks it verified, audited (`verify`).
   * A status change bumps the revision (the SMTP engine follows). Errors: not_found (no such Domain,
   * or it does not hold the name).
   */
  recordDomainCheck(input: DomainCheckInput, ctx: WriteContext): Promise<StoredObject>;
}
