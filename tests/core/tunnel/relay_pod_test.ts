import assert from "node:assert/strict";
import type { KubeObject } from "../../../core/kube/client.ts";
import {
  isPodReady,
  podFailureReason,
  RELAY_ACTIVE_DEADLINE_SECONDS,
  RELAY_LABEL_SELECTOR,
  relayPodManifest,
  relayPodName,
} from "../../../core/tunnel/relay_pod.ts";
import { parseCommand } from "../../../cli/tunnel_options.ts";

function podWithStatus(status: Record<string, unknown>): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "relay" }, status };
}

Deno.test("relay pod manifest is locked down", () => {
  const pod = relayPodManifest({
    namespace: "probes",
    image: "registry.example/trustwatch:1.0",
    pullSecret: "registry-login",
    command: ["/trustwatch", "socks5"],
  }, "trustwatch-relay-abcde");

  assert.equal(pod.metadata.name, "trustwatch-relay-abcde");
  assert.equal(pod.metadata.namespace, "probes");
  assert.equal(pod.metadata.labels?.["app.kubernetes.io/managed-by"], "trustwatch");
  assert.equal(pod.spec.activeDeadlineSeconds, RELAY_ACTIVE_DEADLINE_SECONDS);
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.deepEqual(pod.spec.imagePullSecrets, [{ name: "registry-login" }]);
  assert.deepEqual(pod.spec.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65534,
    runAsGroup: 65534,
    seccompProfile: { type: "RuntimeDefault" },
  });

  const [container] = pod.spec.containers;
  assert.equal(container.image, "registry.example/trustwatch:1.0");
  assert.deepEqual(container.command, ["/trustwatch", "socks5"]);
  assert.deepEqual(container.ports, [{ name: "socks5", containerPort: 1080, protocol: "TCP" }]);
  assert.deepEqual(container.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  });
});

Deno.test("relay pod manifest keeps the image entrypoint", () => {
  const pod = relayPodManifest(
    { namespace: "default", image: "serjs/go-socks5-proxy:latest" },
    "x",
  );
  assert.equal(pod.spec.containers[0].command, undefined);
  assert.equal(pod.spec.imagePullSecrets, undefined);
});

Deno.test("relay pod names are unique and valid", () => {
  const names = new Set(Array.from({ length: 50 }, relayPodName));
  assert.ok(names.size > 45, `only ${names.size} distinct names`);
  for (const name of names) assert.match(name, /^trustwatch-relay-[a-z0-9]{5}$/);
  assert.equal(
    RELAY_LABEL_SELECTOR,
    "app.kubernetes.io/name=trustwatch-relay,app.kubernetes.io/component=socks5-relay," +
      "app.kubernetes.io/managed-by=trustwatch",
  );
});

Deno.test("relay pod readiness needs Running and Ready", () => {
  assert.equal(isPodReady(podWithStatus({ phase: "Pending" })), false);
  assert.equal(
    isPodReady(
      podWithStatus({ phase: "Running", conditions: [{ type: "Ready", status: "False" }] }),
    ),
    false,
  );
  assert.equal(
    isPodReady(
      podWithStatus({ phase: "Running", conditions: [{ type: "Ready", status: "True" }] }),
    ),
    true,
  );
});

Deno.test("relay pod failure reasons name the cause", () => {
  const cases: [Record<string, unknown>, string | undefined][] = [
    [{
      phase: "Pending",
      containerStatuses: [{ state: { waiting: { reason: "ContainerCreating" } } }],
    }, undefined],
    [
      {
        phase: "Pending",
        containerStatuses: [{
          state: {
            waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "x:1"' },
          },
        }],
      },
      'ImagePullBackOff: Back-off pulling image "x:1"',
    ],
    [
      {
        phase: "Running",
        containerStatuses: [{
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s" } },
          lastState: { terminated: { reason: "Error", exitCode: 2 } },
        }],
      },
      "CrashLoopBackOff: back-off 10s: last exit: Error (exit code 2)",
    ],
    [
      {
        phase: "Running",
        containerStatuses: [{ state: { terminated: { reason: "OOMKilled", exitCode: 137 } } }],
      },
      "OOMKilled (exit code 137)",
    ],
    [
      { phase: "Failed", reason: "DeadlineExceeded", message: "Pod was active longer than 300s" },
      "DeadlineExceeded: Pod was active longer than 300s",
    ],
    [
      {
        phase: "Pending",
        containerStatuses: [{
          state: {
            waiting: { reason: "CreateContainerConfigError", message: 'secret "x" not found' },
          },
        }],
      },
      'CreateContainerConfigError: secret "x" not found',
    ],
  ];
  for (const [status, expected] of cases) {
    assert.equal(podFailureReason(podWithStatus(status)), expected, JSON.stringify(status));
  }
});

Deno.test("tunnel command splits on commas", () => {
  assert.deepEqual(parseCommand("/trustwatch,socks5"), ["/trustwatch", "socks5"]);
  assert.deepEqual(parseCommand(" /socks5 "), ["/socks5"]);
  assert.throws(() => parseCommand("/trustwatch,,socks5"), /invalid --tunnel-command/);
  assert.throws(() => parseCommand(""), /invalid --tunnel-command/);
});
