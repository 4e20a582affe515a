/** Reads back the text a PDF draws: every string shown by a `Tj` operator in its (inflated) content streams. */
import { inflateSync } from "node:zlib";
import { PDFDocument, PDFName, PDFRawStream } from "pdf-lib";

/**
 * The strings a PDF shows, one per line, decoded from WinAnsi (which matches Latin-1 for letters
 * such as ä, ß, é, ç). Reads only what pdf-lib's drawText writes: hex strings shown with `Tj`.
 * @example expect(await pdfText(bytes)).toContain("Schutzbericht")
 */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await PDFDocument.load(bytes);
  const shown: string[] = [];
  for (const [, object] of doc.context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFRawStream)) continue;
    const filter = object.dict.get(PDFName.of("Filter"));
    const content =
      filter === PDFName.of("FlateDecode") ? inflateSync(object.contents) : Buffer.from(object.contents);
    for (const m of content.toString("latin1").matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g)) {
      shown.push(Buffer.from(m[1]!, "hex").toString("latin1"));
    }
  }
  return shown.join("\n");
}
