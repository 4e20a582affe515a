/** mailplane's SDK (`mailplane/sdk`): the data model, the error catalogue, the API contract and the HTTP client. */
export * from "./client/index.ts";
export * from "./contract/index.ts";
export * from "./errors.ts";
export * from "./models/index.ts";
