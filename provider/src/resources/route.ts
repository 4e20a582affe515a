/** The Route resource: a destination mail server for a domain's clean mail, tried in priority order. */
import type * as pulumi from "@pulumi/pulumi";
import { routeKind } from "../../../sdk/src/models/kinds.ts";
import type { Route as RouteObject, RouteSpecInput } from "../../../sdk/src/models/route.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link Route}; types and rules come from the model (`RouteSpec`). */
export interface RouteArgs extends CommonArgs {
  /** The domain whose mail this route delivers (key). */
  domain: Arg<RouteSpecInput["domain"]>;
  /** Destination mail server: host name or IP address (key). */
  host: Arg<RouteSpecInput["host"]>;
  /** Destination TCP port (1–65535, key). Default 25. */
  port?: Arg<RouteSpecInput["port"]>;
  /** Order of delivery attempts: lower first. A 4xx from one route moves on to the next. Default 10. */
  priority?: Arg<RouteSpecInput["priority"]>;
  /**
   * TLS to the destination: `none`, `opportunistic` (STARTTLS when offered, any certificate) or
   * `required` (defer unless the certificate verifies: a trusted CA chain and the host's name, or
   * `tlsPins`). Default `opportunistic`.
   */
  tls?: Arg<RouteSpecInput["tls"]>;
  /**
   * With `tls: required`: accept the server only if its key (`sha256/<base64 SPKI hash>`) or
   * certificate (SHA-256 fingerprint `AB:CD:…`) matches one of these; a pin replaces the CA and
   * name checks, so a self-signed certificate works. List the next key too before rotating.
   */
  tlsPins?: Arg<RouteSpecInput["tlsPins"]>;
  /**
   * With `tls: required`: PEM CA certificate(s) the server's chain must lead to, instead of the
   * platform's trusted CAs; the host name is still checked.
   */
  tlsCa?: Arg<RouteSpecInput["tlsCa"]>;
}

/**
 * A destination mail server for a domain's clean mail. Routes are tried in priority order; a 4xx
 * moves on to the next route, and when all are down the message is queued and retried.
 *
 * Key: `domain`, `host` and `port` — changing any replaces the route. The resource ID is
 * `<domain>/routes/<host>:<port>` (`example.com/routes/mx1.example.net:25`).
 *
 * @example
 * ```ts
 * const primary = new mailplane.Route("primary", {
 *   domain: domain.name,
 *   host: "mx1.example.net",
 *   priority: 10,
 *   tls: "required",
 * });
 * // A server with a self-signed certificate: pin its key instead of trusting a CA.
 * const lab = new mailplane.Route("lab", {
 *   domain: domain.name,
 *   host: "mail.lab.example.net",
 *   tls: "required",
 *   tlsPins: ["sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
 * });
 * ```
 */
export class Route extends MailplaneResource {
  /** The domain whose mail this route delivers (key). */
  declare readonly domain: pulumi.Output<RouteObject["domain"]>;
  /** Destination mail server: host name or IP address (key). */
  declare readonly host: pulumi.Output<RouteObject["host"]>;
  /** Destination TCP port (1–65535, key). Default 25. */
  declare readonly port: pulumi.Output<RouteObject["port"]>;
  /** Order of delivery attempts: lower first. A 4xx from one route moves on to the next. Default 10. */
  declare readonly priority: pulumi.Output<RouteObject["priority"]>;
  /**
   * TLS to the destination: `none`, `opportunistic` (STARTTLS when offered, any certificate) or
   * `required` (defer unless the certificate verifies: a trusted CA chain and the host's name, or
   * `tlsPins`). Default `opportunistic`.
   */
  declare readonly tls: pulumi.Output<RouteObject["tls"]>;
  /** With `tls: "required"`: SHA-256 pins of the server's key or certificate; see {@link RouteArgs.tlsPins}. */
  declare readonly tlsPins: pulumi.Output<RouteObject["tlsPins"]>;
  /** With `tls: "required"`: the PEM CA certificate(s) the chain must lead to. */
  declare readonly tlsCa: pulumi.Output<RouteObject["tlsCa"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<RouteObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<RouteObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<RouteObject["updatedAt"]>;

  constructor(name: string, args: RouteArgs, opts?: pulumi.CustomResourceOptions) {
    super("Route", name, resourceProps(routeKind, args), resourceOptions(routeKind, opts));
  }
}

/** What the runtime runs for a {@link Route}: check, diff, create, read, update, delete. */
export const routeProvider = defineProvider(routeKind, objectApi);
