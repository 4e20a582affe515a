/** Types for the parts of libmime the content scan uses (the package ships none). */
declare module "libmime" {
  /** libmime's methods use `this`: call them on the default export, never detached. */
  const libmime: {
    /** Parses a header block into lower-cased names → unfolded raw values, in order. */
    decodeHeaders(headers: string): Record<string, string[]>;
    /** Decodes RFC 2047 encoded words (and joins adjacent ones, §6.2). */
    decodeWords(value: string): string;
  };
  export default libmime;
}
