/** Type declarations for the parts of mailsplit (no bundled types) that the message scanner uses. */
declare module "mailsplit" {
  import { Transform } from "node:stream";
  export class Splitter extends Transform {
    constructor(options?: { ignoreEmbedded?: boolean; maxHeadSize?: number });
  }
}
