/** Renders an imported tenant as a YAML tenancy manifest (schema/tenancy.schema.json) for the Tenancy component. */
import { Document, isMap, isScalar } from "yaml";
import type { TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import { manifestDocument } from "./minimise.ts";
import { countsOf, exampleAddress, type ImportSource, passwordCommand, sourceOf } from "./summary.ts";

/** The header: what the file is, how to use it with adopt, and why there are no passwords. */
function header(manifest: TenancyManifest, source: ImportSource, file: string): string {
  const lines = [
    `mailplane tenancy manifest, written by \`mailplane import\` from ${sourceOf(source)}:`,
    `${countsOf(manifest)}.`,
    "",
    "Use it with the Tenancy component and adopt, so the first `pulumi up` takes the existing",
    "objects over instead of creating them; it should report no changes:",
    "",
    '  new mailplane.Tenancy("imported", {',
    `    file: ${JSON.stringify(file)},`,
    "    adopt: true,",
    '    passwords: config.getSecretObject("passwords"),',
    "  });",
    "",
    "Passwords are write-only and were not imported: every user keeps the current password. To set",
    "one from code, keep it (encrypted) in the stack config; the next `pulumi up` sets it:",
    "",
    `  ${passwordCommand(exampleAddress(manifest))}`,
    "",
    "Fields at their defaults are left out, and so are filter settings and password policies that",
    "are at their defaults (declare one to manage it). The format: schema/tenancy.schema.json.",
  ];
  return lines.map((line) => (line === "" ? "#" : `# ${line}`)).join("\n");
}

/**
 * The manifest as YAML: a header comment, `apiVersion`, then domains, routes, aliases, sender
 * lists, filter settings, password policies and users (the model's order), each object with its key
 * fields first and its defaults left out, a blank line between sections. Deterministic: the same
 * tenant gives the same bytes, so a re-import shows as a reviewable diff. `file` is the name the
 * header's example passes to the Tenancy component (default `tenancy.yaml`).
 * @example writeFileSync("tenancy.yaml", renderYaml(manifest, { endpoint, account: "acme" }));
 */
export function renderYaml(manifest: TenancyManifest, source: ImportSource, file = "tenancy.yaml"): string {
  const doc = new Document(manifestDocument(manifest));
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items.slice(1)) {
      if (isScalar(pair.key)) pair.key.spaceBefore = true;
    }
  }
  // lineWidth 0: never fold long strings (a reject text stays on one line, as written).
  // The header is written by hand: the yaml package would turn its blank lines into empty lines.
  return `${header(manifest, source, file)}\n\n${doc.toString({ lineWidth: 0 })}`;
}
