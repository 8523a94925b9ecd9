import assert from "node:assert/strict";
import { parseResolveEntry, ResolveMap } from "../../../core/probe/resolve.ts";

Deno.test("parseResolveEntry reads HOST:PORT:ADDR", () => {
  assert.deepEqual(parseResolveEntry("webhook.ns.svc:443:127.0.0.1"), {
    host: "webhook.ns.svc",
    port: 443,
    address: "127.0.0.1",
  });
});

Deno.test("parseResolveEntry reads bracketed and bare IPv6 addresses", () => {
  const expected = { host: "api.example.com", port: 6443, address: "::1" };

  assert.deepEqual(parseResolveEntry("api.example.com:6443:[::1]"), expected);
  assert.deepEqual(parseResolveEntry("api.example.com:6443:::1"), expected);
  assert.deepEqual(parseResolveEntry("api.example.com:6443:[fd00::10]"), {
    ...expected,
    address: "fd00::10",
  });
});

Deno.test("parseResolveEntry rejects malformed values", () => {
  const cases: Array<[string, string]> = [
    ["foo", "missing port or address"],
    ["foo:443", "missing port or address"],
    [":443:127.0.0.1", "host is empty"],
    ["*:443:127.0.0.1", "wildcard hosts are not supported"],
    ["foo:http:127.0.0.1", 'port "http" is not an integer from 1 to 65535'],
    ["foo:0:127.0.0.1", 'port "0" is not an integer from 1 to 65535'],
    ["foo:65536:127.0.0.1", 'port "65536" is not an integer from 1 to 65535'],
    ["foo:443:", 'address "" is not an IPv4 or IPv6 literal'],
    ["foo:443:localhost", 'address "localhost" is not an IPv4 or IPv6 literal'],
    ["foo:443:300.1.1.1", 'address "300.1.1.1" is not an IPv4 or IPv6 literal'],
  ];

  for (const [value, reason] of cases) {
    assert.throws(() => parseResolveEntry(value), {
      message: `invalid --resolve "${value}": ${reason}. ` +
        "Expected HOST:PORT:ADDR, e.g. webhook.ns.svc:443:127.0.0.1",
    });
  }
});

Deno.test("ResolveMap matches host case-insensitively and port exactly", () => {
  const map = new ResolveMap([
    { host: "Webhook.NS.svc", port: 443, address: "10.0.0.1" },
    { host: "webhook.ns.svc", port: 8443, address: "::1" },
  ]);

  assert.equal(map.addressFor("webhook.ns.svc", 443), "10.0.0.1");
  assert.equal(map.addressFor("WEBHOOK.ns.svc", 8443), "::1");
  assert.equal(map.addressFor("webhook.ns.svc", 9443), undefined);
  assert.equal(map.addressFor("other.ns.svc", 443), undefined);
  assert.equal(new ResolveMap().addressFor("webhook.ns.svc", 443), undefined);
});

Deno.test("ResolveMap lets a later entry replace an earlier one", () => {
  const map = new ResolveMap([
    parseResolveEntry("webhook.ns.svc:443:10.0.0.1"),
    parseResolveEntry("webhook.ns.svc:443:10.0.0.2"),
  ]);

  assert.equal(map.addressFor("webhook.ns.svc", 443), "10.0.0.2");
});

Deno.test("parseResolveEntry reads a bracketed IPv6 host", () => {
  assert.deepEqual(parseResolveEntry("[::1]:443:127.0.0.1"), {
    host: "::1",
    port: 443,
    address: "127.0.0.1",
  });
  assert.deepEqual(parseResolveEntry("[fd00::5]:8443:[::1]"), {
    host: "fd00::5",
    port: 8443,
    address: "::1",
  });
  assert.throws(() => parseResolveEntry("[::1:443:127.0.0.1"), /needs a closing \]/);
});
