/**
 * The flags that choose how probes reach in-cluster endpoints (`--tunnel`, `--probe-via`), and
 * the set-up and clean-up of that route for a command run.
 *
 * @module
 */
import { type Command, Option } from "@commander-js/extra-typings";
import { getLogger } from "@logtape/logtape";
import type { KubeClient } from "../core/kube/client.ts";
import { BypassDialer, type Dialer } from "../core/probe/dialer.ts";
import { PortForwardDialer } from "../core/tunnel/portforward_dialer.ts";
import { DEFAULT_TUNNEL_IMAGE, DEFAULT_TUNNEL_NAMESPACE } from "../core/tunnel/relay_pod.ts";
import { openTunnel } from "../core/tunnel/tunnel.ts";

/** Values of `--probe-via`. */
export const PROBE_VIA = ["direct", "portforward"] as const;

/** Parsed tunnel flags; all optional, so commands without them parse the same. */
export interface TunnelFlags {
  tunnel?: boolean;
  tunnelNs?: string;
  tunnelImage?: string;
  tunnelPullSecret?: string;
  tunnelCommand?: string;
  probeVia?: typeof PROBE_VIA[number];
}

/** The dialer of one run's probes, and the clean-up of what setting it up created. */
export interface ProbeRoute {
  /** `undefined` dials directly. */
  dialer?: Dialer;
  /** Deletes the relay Pod and stops port-forwards. Never throws. */
  close(): Promise<void>;
}

/** Adds `--tunnel`, `--tunnel-ns`, `--tunnel-image`, `--tunnel-pull-secret`, `--tunnel-command` and `--probe-via`. */
export function addTunnelOptions(command: Command): Command {
  command
    .option(
      "--tunnel",
      "probe through a SOCKS5 relay Pod, port-forwarded through the API server; it is deleted on exit",
    )
    .option("--tunnel-ns <namespace>", "namespace of the relay Pod", DEFAULT_TUNNEL_NAMESPACE)
    .option(
      "--tunnel-image <image>",
      "image of the relay Pod (listens on 1080)",
      DEFAULT_TUNNEL_IMAGE,
    )
    .option("--tunnel-pull-secret <name>", "image pull Secret for --tunnel-image, in --tunnel-ns")
    .option(
      "--tunnel-command <list>",
      "entrypoint of the relay container, comma-separated, e.g. /trustwatch,socks5",
    )
    .addOption(
      new Option(
        "--probe-via <route>",
        "direct, or portforward: port-forward to a ready Pod behind each Service (no relay image)",
      ).choices(PROBE_VIA).default("direct"),
    );
  return command;
}

/**
 * Opens the probe route the flags ask for: a relay Pod and port-forward for `--tunnel`, a
 * port-forward dialer for `--probe-via portforward`, nothing otherwise. Throws an Error with a
 * one-line message when the flags conflict or the relay Pod cannot start; the Pod is deleted
 * before it throws.
 */
export async function openProbeRoute(
  kube: KubeClient,
  flags: TunnelFlags,
  signal: AbortSignal,
): Promise<ProbeRoute> {
  const logger = getLogger(["trustwatch", "tunnel"]);
  const probeVia = flags.probeVia ?? "direct";
  if (flags.tunnel && probeVia !== "direct") {
    throw new Error("--tunnel and --probe-via portforward are alternatives; choose one");
  }

  if (flags.tunnel) {
    const tunnel = await openTunnel(kube, {
      namespace: flags.tunnelNs ?? DEFAULT_TUNNEL_NAMESPACE,
      image: flags.tunnelImage ?? DEFAULT_TUNNEL_IMAGE,
      pullSecret: flags.tunnelPullSecret,
      command: flags.tunnelCommand === undefined ? undefined : parseCommand(flags.tunnelCommand),
      signal,
      logger,
    });
    const apiServer = new URL(kube.cluster.server);
    const dialer = new BypassDialer(tunnel.dialer, [{
      address: apiServer.hostname,
      port: Number(apiServer.port || 443),
    }]);
    return { dialer, close: () => tunnel.close() };
  }

  if (probeVia === "portforward") {
    const dialer = new PortForwardDialer(kube, logger);
    return { dialer, close: () => dialer.close() };
  }
  return { close: () => Promise.resolve() };
}

/** Splits `--tunnel-command` on commas; throws for an empty list or an empty element. */
export function parseCommand(value: string): string[] {
  const parts = value.split(",").map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === "")) {
    throw new Error(
      `invalid --tunnel-command "${value}": expected a comma-separated list without empty items, ` +
        "e.g. /trustwatch,socks5",
    );
  }
  return parts;
}
