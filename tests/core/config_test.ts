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
    [
      "warnBefore: 720h\nrefreshEvery: 1000h\n",
      "config:2: refreshEvery: 1000h is out of range; expected more than 0 and at most 24h",
    ],
    ["refreshEvery: 0s\n", "config:1: refreshEvery: 0s is out of range"],
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

Deno.test("parseConfig keeps long thresholds and a one-day refreshEvery", () => {
  const config = parseConfig("warnBefore: 8760h\ncritBefore: 2000h\nrefreshEvery: 24h\n");
  assert.equal(config.warnBefore, "8760h");
  assert.equal(config.critBefore, "2000h");
  assert.equal(config.refreshEvery, "24h");
});

Deno.test("external url with credentials is rejected", () => {
  const cases: [string, string][] = [
    [
      "https://user:pw@x.example.com/path?q=1#f",
      'config:3: external[1].url: "https://x.example.com/path?q=1#f" contains credentials; ' +
      "remove user:password@, trustwatch does not send them",
    ],
    [
      "https://token@x.example.com",
      'config:3: external[1].url: "https://x.example.com/" contains credentials',
    ],
    [
      "tcp://user:pw@db.example.com:5432",
      'config:3: external[1].url: "tcp://db.example.com:5432" contains credentials',
    ],
    ["ftp://user:pw@x.example.com", 'config:3: external[1].url: "ftp://x.example.com/" contains'],
    ["https://user:pw@", "config:3: external[1].url: the URL contains credentials"],
  ];
  for (const [url, expected] of cases) {
    const text = `external:\n  - url: https://ok.example.com\n  - url: "${url}"\n`;
    assert.throws(
      () => parseConfig(text),
      (error: Error) => {
        assert.ok(error instanceof ConfigError, url);
        assert.ok(error.message.startsWith(expected), `${url}: ${error.message}`);
        assert.doesNotMatch(error.message, /pw|token/, `${url}: message leaks the credentials`);
        return true;
      },
    );
  }
});

Deno.test("external url parts a handshake ignores are rejected", () => {
  const cases: [string, RegExp][] = [
    [
      "https://x.example.com/path?q=1#f",
      /^config:2: external\[0\]\.url: "https:\/\/x\.example\.com\/path\?q=1#f" has a path, query or fragment \("\/path\?q=1#f"\); trustwatch only does a TLS handshake and sends no HTTP request, so use https:\/\/x\.example\.com$/,
    ],
    [
      "https://x.example.com:8443/healthz",
      /\("\/healthz"\).*so use https:\/\/x\.example\.com:8443$/,
    ],
    ["https://x.example.com?q=1", /has a path, query or fragment \("\?q=1"\)/],
    ["https://x.example.com/#top", /has a path, query or fragment \("#top"\)/],
    ["tcp://db.example.com:5432/db", /has a path or fragment; tcp:\/\/ takes only host, port/],
    ["tcp://db.example.com:5432?servername=db", /has a query other than one non-empty \?sni=name/],
    ["tcp://db.example.com:5432?sni=a&sni=b", /has a query other than one non-empty \?sni=name/],
    ["tcp://db.example.com:5432?sni=", /has a query other than one non-empty \?sni=name/],
  ];
  for (const [url, expected] of cases) {
    assert.throws(
      () => parseConfig(`external:\n  - url: "${url}"\n`),
      (error: Error) => {
        assert.ok(error instanceof ConfigError, url);
        assert.match(error.message, expected, url);
        return true;
      },
    );
  }
});

Deno.test("external url accepts host, port, slash and sni", () => {
  const urls = [
    "https://x.example.com",
    "https://x.example.com/",
    "https://x.example.com:8443",
    "https://[::1]:9443/",
    "tcp://db.example.com:5432",
    "tcp://db.example.com:5432?sni=db.example.com",
  ];
  const text = `external:\n${urls.map((url) => `  - url: "${url}"\n`).join("")}`;
  assert.deepEqual(parseConfig(text).external, urls.map((url) => ({ url })));
});

Deno.test("parseConfig explains YAML shape mistakes", () => {
  const cases: [string, string][] = [
    [
      "warnBefore: 720h\n---\ncritBefore: 1h\n",
      "config:2: (document): contains several YAML documents (---); keep the whole config in one document",
    ],
    [
      "warnBefore: 100\n",
      "config:1: warnBefore: 100 has no unit; write a duration such as 720h or 90m",
    ],
  ];
  for (const [text, expected] of cases) {
    assert.throws(() => parseConfig(text), (error: Error) => error.message === expected, expected);
  }
  assert.throws(
    () => parseConfig("warnBefore: [\n"),
    (error: Error) => /^config:2: \(document\): invalid YAML: [^\n]*[^:]$/.test(error.message),
    "one line without the parser's position suffix",
  );
});

Deno.test("loadConfigFile names a directory", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await assert.rejects(
      loadConfigFile(directory),
      (error: Error) =>
        error.message === `${directory}: (file): is a directory; pass the config file inside it`,
    );
  } finally {
    await Deno.remove(directory);
  }
});
