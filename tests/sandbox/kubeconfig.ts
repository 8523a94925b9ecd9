/**
 * Writes the kubeconfig that points clients at a running sandbox.
 *
 * @module
 */
import { stringify } from "yaml";
import { join } from "node:path";

/** Name used for the sandbox's cluster, user and context entries. */
export const SANDBOX_CONTEXT = "sandbox";

/** File name of the kubeconfig inside the sandbox directory. */
export const KUBECONFIG_FILE_NAME = "kubeconfig";

/**
 * Writes a kubeconfig with one cluster, user and context, all named `sandbox`, with the CA as
 * certificate-authority-data and the bearer token. The file is created with mode 0600 because
 * it contains the token. Returns its path.
 */
export async function writeKubeconfig(
  dir: string,
  server: string,
  caPem: string,
  token: string,
): Promise<string> {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{
      name: SANDBOX_CONTEXT,
      cluster: { server, "certificate-authority-data": btoa(caPem) },
    }],
    users: [{ name: SANDBOX_CONTEXT, user: { token } }],
    contexts: [{
      name: SANDBOX_CONTEXT,
      context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT },
    }],
    "current-context": SANDBOX_CONTEXT,
    preferences: {},
  };

  const path = join(dir, KUBECONFIG_FILE_NAME);
  await Deno.writeTextFile(path, stringify(config), { mode: 0o600 });
  return path;
}
