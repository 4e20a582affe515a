/** `plan-summary --simulate`: reads the samples and the live tenancy, applies the preview, and renders the changed fates. */
import { readFileSync } from "node:fs";
import { RESERVED_LOCAL_PARTS } from "../../platform/smtp/policy/snapshot.ts";
import { type ApiAccess, apiClient } from "../api-access.ts";
import type { PreviewJson } from "../plan-summary.ts";
import { readLiveTenancy } from "./live.ts";
import { applyPreview } from "./planned.ts";
import { renderSimulation } from "./render.ts";
import { parseSamples } from "./samples.ts";
import { type SimulatedTenancy, simulatePlan } from "./simulate.ts";

/** Options of {@link simulationSection}. */
export interface SimulationOptions {
  /** Path of the samples file. */
  samplesFile: string;
  access: ApiAccess;
  /** Treat every domain name as verified (a platform run with `--trust-all-domains`); default false. */
  trustAllDomains?: boolean;
}

/**
 * The Markdown section for a preview. The samples are validated before the API is called, so a bad
 * file fails fast.
 *
 * @throws SampleFileError (the file), the API's MailplaneError (the live read)
 * @example const md = await simulationSection(preview, { samplesFile: "samples.yaml", access });
 */
export async function simulationSection(preview: PreviewJson, options: SimulationOptions): Promise<string> {
  const samples = parseSamples(readFileSync(options.samplesFile, "utf8"), options.samplesFile);
  const client = apiClient(options.access, "mailplane-plan-summary");
  let live: SimulatedTenancy;
  try {
    live = await readLiveTenancy(client, options.trustAllDomains === true);
  } finally {
    await client.close();
  }
  const { manifest, skipped, accountContacts } = applyPreview(live.manifest, preview);
  const planned: SimulatedTenancy = { ...live, manifest };
  if (accountContacts.has(live.account)) planned.contact = accountContacts.get(live.account) ?? null;
  const verified = live.verified;
  const unverified =
    verified === "all"
      ? []
      : manifest.domains.map((d) => d.name).filter((name) => !(verified.get(name) ?? []).includes(name));
  return renderSimulation({
    samplesFile: options.samplesFile,
    simulation: simulatePlan(samples, live, planned),
    skipped,
    unverified,
    contactUnknown:
      planned.contact === undefined &&
      samples.some((s) =>
        s.to.some((rcpt) => RESERVED_LOCAL_PARTS.has(rcpt.slice(0, rcpt.lastIndexOf("@")))),
      ),
  });
}
