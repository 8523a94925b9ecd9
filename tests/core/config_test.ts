import assert from "node:assert/strict";
import { ConfigError, defaultConfig, loadConfigFile, parseConfig } from "../../core/config.ts";

Deno.test("parseConfig reads every documented key", () => {
  const config = parseConfig(`
listenAddr: ":9090"
metricsPath: /prom
refreshEvery: 5m
warnBefore: 1080h
critBefore: 168h
namespaces: [payments, ingress-nginx]
historyDB: /data/history.db
spiffeSocket: /run/spire/sockets/agent.sock
otelEndpoint: http://127.0.0.1:4318
clusterName: prod-eu
linkerdNamespace: mesh-linkerd
istioNamespace: istio-prod
external:
  - url: https://status.example.com
  - url: tcp://db.example.com:5432?sni=db.example.com
    severity: critical
remotes:
  - name: prod-us
    url: http://trustwatch.prod-us.example.com:8080
notifications:
  enabled: true
  webhooks:
    - url: https://hooks.example.com/T000
      type: slack
  severities: [critical]
  cooldown: 6h
`);
  assert.deepEqual(config, {
    listenAddr: ":9090",
    metricsPath: "/prom",
    refreshEvery: "5m",
    warnBefore: "1080h",
    critBefore: "168h",
    namespaces: ["payments", "ingress-nginx"],
    historyDB: "/data/history.db",
    spiffeSocket: "/run/spire/sockets/agent.sock",
    otelEndpoint: "http://127.0.0.1:4318",
    clusterName: "prod-eu",
    linkerdNamespace: "mesh-linkerd",
    istioNamespace: "istio-prod",
    external: [
      { url: "https://status.example.com" },
      { url: "tcp://db.example.com:5432?sni=db.example.com", severity: "critical" },
    ],
    remotes: [{ name: "prod-us", url: "http://trustwatch.prod-us.example.com:8080" }],
    notifications: {
      enabled: true,
      webhooks: [{ url: "https://hooks.example.com/T000", type: "slack" }],
      severities: ["critical"],
      cooldown: "6h",
    },
  });
});

Deno.test("parseConfig of an empty file gives the defaults", () => {
  assert.deepEqual(parseConfig(""), defaultConfig());
});

Deno.test("parseConfig errors name the key path and line", () => {
  const cases: [string, string][] = [
    ["warnBefore: 720h\nwarnBefor: 10h\n", "config:2: warnBefor: unknown key"],
    ["critBefore: 14d\n", 'config:1: critBefore: invalid duration "14d"'],
    ["external:\n  - url: ftp://x.example.com\n", "config:2: external[0].url"],
    [
      "external:\n  - url: https://a.example.com\n    sni: a\n    port: 3\n",
      "config:4: external[0].port: unknown key",
    ],
    [
      "warnBefore: 100h\ncritBefore: 200h\n",
      "config:2: critBefore: 200h must be shorter than warnBefore",
    ],
    ["refreshEvery: 5s\n", "config:1: refreshEvery: 5s is too short"],
    ["namespaces: payments\n", "config:1: namespaces: expected a list"],
    [
      "external:\n  - url: tcp://db.example.com\n",
      'config:2: external[0].url: "tcp://db.example.com" has no port',
    ],
    [
      "notifications:\n  webhooks:\n    - url: https://h.example.com\n      type: teams\n",
      "config:4:",
    ],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseConfig(text),
      (error: Error) => error instanceof ConfigError && error.message.startsWith(expected),
      `expected an error starting with ${JSON.stringify(expected)}`,
    );
  }
});

Deno.test("loadConfigFile names a missing file", async () => {
  await assert.rejects(
    loadConfigFile("/nonexistent/trustwatch.yaml"),
    /\/nonexistent\/trustwatch.yaml: \(file\): file not found/,
  );
});

Deno.test("config mesh namespaces default and override", () => {
  const defaults = parseConfig("warnBefore: 720h\n");
  assert.equal(defaults.linkerdNamespace, "linkerd");
  assert.equal(defaults.istioNamespace, "istio-system");
  const custom = parseConfig("linkerdNamespace: mesh-linkerd\nistioNamespace: istio-prod\n");
  assert.equal(custom.linkerdNamespace, "mesh-linkerd");
  assert.equal(custom.istioNamespace, "istio-prod");
});

Deno.test("config rejects invalid mesh namespaces", () => {
  assert.throws(
    () => parseConfig("warnBefore: 720h\nistioNamespace: Istio_System\n", "tw.yaml"),
    (error: Error) => {
      assert.match(
        error.message,
        /^tw\.yaml:2: istioNamespace: "Istio_System" is not a valid namespace name/,
      );
      return true;
    },
  );
  assert.throws(
    () => parseConfig("linkerdNamespace: 42\n"),
    /linkerdNamespace: expected a non-empty string/,
  );
  assert.throws(
    () => parseConfig(`linkerdNamespace: ${"a".repeat(64)}\n`),
    /not a valid namespace name/,
  );
});
