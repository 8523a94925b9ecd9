/**
 * The web UI's browser script, served as `/assets/app.js`.
 *
 * Every value from the cluster is attacker-controlled, because a certificate's subject is whatever
 * its issuer wrote. The script therefore builds the page only with `createElement` and
 * `textContent`, and never assigns markup. The page's Content-Security-Policy forbids inline
 * scripts as a second line of defence.
 *
 * @module
 */
import { SEVERITIES } from "../../core/model.ts";

/** How often the page reloads the snapshot, in milliseconds. */
export const UI_REFRESH_MS = 30_000;

/** Fields of a finding in the order the detail panel lists them: the whole JSON contract. */
export const FINDING_FIELDS = [
  "severity",
  "findingType",
  "source",
  "cluster",
  "namespace",
  "name",
  "target",
  "sni",
  "probeOk",
  "probeError",
  "notAfter",
  "subject",
  "issuer",
  "serial",
  "dnsNames",
  "issuerChain",
  "chainLen",
  "chainErrors",
  "postureIssues",
  "revocationIssues",
  "tlsVersion",
  "cipherSuite",
  "keyAlgorithm",
  "keySize",
  "signatureAlgorithm",
  "selfSigned",
  "isCA",
  "policyName",
  "notes",
  "remediation",
] as const;

const constants = [
  `var SEVERITIES = ${JSON.stringify(SEVERITIES)};`,
  `var FINDING_FIELDS = ${JSON.stringify(FINDING_FIELDS)};`,
  `var REFRESH_MS = ${UI_REFRESH_MS};`,
  `var ZERO_TIME = "0001-01-01T00:00:00Z";`,
].join("\n");

const body = String.raw`
var state = { snapshot: null, readiness: null, selectedKey: null, loadError: null };

function byId(id) { return document.getElementById(id); }

function element(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function findingKey(finding) {
  return [finding.cluster, finding.source, finding.namespace, finding.name, finding.target,
    finding.serial, finding.findingType].join("\u0000");
}

function formatSpan(ms) {
  var hour = 3600000, day = 24 * hour;
  if (ms >= 2 * day) return Math.floor(ms / day) + "d";
  if (ms >= hour) return Math.floor(ms / hour) + "h";
  return Math.max(1, Math.floor(ms / 60000)) + "m";
}

function relativeExpiry(notAfter) {
  if (!notAfter || notAfter === ZERO_TIME) return "no certificate";
  var remaining = Date.parse(notAfter) - Date.now();
  var span = formatSpan(Math.abs(remaining));
  return remaining <= 0 ? "expired " + span + " ago" : "in " + span;
}

function exactTime(iso) {
  if (!iso || iso === ZERO_TIME) return "";
  var date = new Date(iso);
  if (isNaN(date.getTime())) return String(iso);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function whereOf(finding) {
  var name = finding.name || finding.target || "";
  return finding.namespace ? finding.namespace + "/" + name : name;
}

function detailLine(finding) {
  if (finding.probeError) return finding.probeError;
  if (finding.chainErrors && finding.chainErrors.length) return finding.chainErrors[0];
  if (finding.notes) return finding.notes;
  return finding.subject || "";
}

function selectedSeverities() {
  var chosen = {};
  SEVERITIES.forEach(function (severity) {
    chosen[severity] = byId("filter-" + severity).checked;
  });
  return chosen;
}

function searchableText(finding) {
  var parts = [finding.name, finding.namespace, finding.cluster, finding.target, finding.sni,
    finding.subject, finding.issuer, finding.serial, finding.findingType, finding.notes,
    finding.probeError, finding.source];
  (finding.dnsNames || []).forEach(function (name) { parts.push(name); });
  (finding.issuerChain || []).forEach(function (name) { parts.push(name); });
  return parts.filter(Boolean).join(" ").toLowerCase();
}

function matchingFindings() {
  if (!state.snapshot) return [];
  var severities = selectedSeverities();
  var source = byId("filter-source").value;
  var namespace = byId("filter-namespace").value;
  var words = byId("filter-text").value.toLowerCase().split(/\s+/).filter(Boolean);
  return state.snapshot.findings.filter(function (finding) {
    if (!severities[finding.severity]) return false;
    if (source && finding.source !== source) return false;
    if (namespace && (finding.namespace || "") !== namespace) return false;
    var text = searchableText(finding);
    return words.every(function (word) { return text.indexOf(word) !== -1; });
  });
}

function fillSelect(select, values) {
  var current = select.value;
  while (select.options.length > 1) select.remove(1);
  values.forEach(function (value) {
    var option = element("option", null, value);
    option.value = value;
    select.appendChild(option);
  });
  select.value = values.indexOf(current) !== -1 ? current : "";
}

function distinct(findings, field) {
  var seen = {};
  findings.forEach(function (finding) {
    if (finding[field]) seen[finding[field]] = true;
  });
  return Object.keys(seen).sort();
}

function isFederated() {
  return state.snapshot !== null && distinct(state.snapshot.findings, "cluster").length > 1;
}

function renderHeader() {
  var status = byId("scan-status");
  var counts = byId("counts");
  clear(counts);
  if (state.loadError) {
    status.textContent = "Cannot load the snapshot: " + state.loadError;
    return;
  }
  if (!state.snapshot) {
    status.textContent = "Waiting for the first scan…";
    return;
  }
  var readiness = state.readiness;
  var lastScan = readiness && readiness.lastScan ? readiness.lastScan : state.snapshot.at;
  status.textContent = "Last scan " + exactTime(lastScan) +
    (readiness && readiness.scanAge ? " (" + readiness.scanAge + " ago)" : "");
  SEVERITIES.forEach(function (severity) {
    var count = state.snapshot.findings.filter(function (finding) {
      return finding.severity === severity;
    }).length;
    counts.appendChild(element("span", "count sev-" + severity, count + " " + severity));
  });

  var errorSection = byId("scan-errors");
  var errorList = byId("scan-error-list");
  clear(errorList);
  state.snapshot.errors.forEach(function (error) {
    errorList.appendChild(element("li", null, error.source + ": " + error.message));
  });
  errorSection.hidden = state.snapshot.errors.length === 0;
}

function renderTable() {
  var findings = matchingFindings();
  var federated = isFederated();
  var tbody = document.querySelector("#findings tbody");
  clear(tbody);
  document.querySelectorAll(".cluster-column").forEach(function (cell) {
    cell.hidden = !federated;
  });

  findings.forEach(function (finding) {
    var row = element("tr", "finding sev-" + finding.severity);
    row.tabIndex = 0;
    row.setAttribute("data-key", findingKey(finding));
    row.setAttribute("data-severity", finding.severity);
    row.appendChild(element("td", "severity", finding.severity));
    if (federated) row.appendChild(element("td", "cluster", finding.cluster || ""));
    row.appendChild(element("td", "source", finding.source));
    row.appendChild(element("td", "where", whereOf(finding)));
    var expires = element("td", "expires");
    expires.appendChild(element("span", "relative", relativeExpiry(finding.notAfter)));
    expires.appendChild(element("span", "exact", exactTime(finding.notAfter)));
    row.appendChild(expires);
    row.appendChild(element("td", "finding-type", finding.findingType || ""));
    row.appendChild(element("td", "detail-line", detailLine(finding)));
    row.addEventListener("click", function () { openDetail(finding); });
    row.addEventListener("keydown", function (event) {
      if (event.key === "Enter") openDetail(finding);
    });
    tbody.appendChild(row);
  });

  var total = state.snapshot ? state.snapshot.findings.length : 0;
  byId("shown-count").textContent = findings.length + " of " + total + " findings";
  var empty = byId("empty");
  empty.hidden = findings.length > 0 || !state.snapshot;
  empty.textContent = total === 0 ? "The last scan found no certificates."
    : "No finding matches the filters.";
}

function fieldValue(value) {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) {
    var list = element("ul");
    value.forEach(function (item) { list.appendChild(element("li", null, item)); });
    return list;
  }
  return document.createTextNode(String(value));
}

function openDetail(finding) {
  state.selectedKey = findingKey(finding);
  byId("detail-title").textContent = finding.severity + " · " + whereOf(finding);
  var fields = byId("detail-fields");
  clear(fields);
  var names = FINDING_FIELDS.slice();
  Object.keys(finding).forEach(function (name) {
    if (names.indexOf(name) === -1) names.push(name);
  });
  names.forEach(function (name) {
    fields.appendChild(element("dt", null, name));
    var cell = element("dd");
    cell.setAttribute("data-field", name);
    var value = fieldValue(finding[name]);
    if (value === null) {
      cell.className = "absent";
      cell.textContent = "-";
    } else {
      cell.appendChild(value);
    }
    if (name === "notAfter" && finding.notAfter !== ZERO_TIME) {
      cell.appendChild(element("span", "relative", " (" + relativeExpiry(finding.notAfter) + ")"));
    }
    fields.appendChild(cell);
  });
  byId("detail").hidden = false;
}

function closeDetail() {
  state.selectedKey = null;
  byId("detail").hidden = true;
}

function reopenSelected() {
  if (!state.selectedKey || !state.snapshot) return;
  var match = state.snapshot.findings.filter(function (finding) {
    return findingKey(finding) === state.selectedKey;
  })[0];
  if (match) openDetail(match);
  else closeDetail();
}

function render() {
  renderHeader();
  if (state.snapshot) {
    fillSelect(byId("filter-source"), distinct(state.snapshot.findings, "source"));
    fillSelect(byId("filter-namespace"), distinct(state.snapshot.findings, "namespace"));
  }
  renderTable();
}

function fetchJson(path) {
  return fetch(path, { headers: { accept: "application/json" }, cache: "no-store" })
    .then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
}

function load() {
  return Promise.all([fetchJson("api/v1/snapshot"), fetchJson("readyz")])
    .then(function (results) {
      var snapshot = results[0], readiness = results[1];
      state.readiness = readiness.body;
      if (snapshot.status === 200) {
        state.snapshot = snapshot.body;
        state.loadError = null;
      } else if (snapshot.status !== 503) {
        state.loadError = (snapshot.body && snapshot.body.error) || "HTTP " + snapshot.status;
      }
      render();
      reopenSelected();
    })
    .catch(function (error) {
      state.loadError = String(error && error.message || error);
      renderHeader();
    });
}

function start() {
  document.querySelectorAll("#filters input, #filters select").forEach(function (control) {
    control.addEventListener("input", renderTable);
    control.addEventListener("change", renderTable);
  });
  byId("filters").addEventListener("submit", function (event) { event.preventDefault(); });
  byId("detail-close").addEventListener("click", closeDetail);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeDetail();
  });
  load();
  setInterval(load, REFRESH_MS);
}

start();
`;

/** The script at `/assets/app.js`. */
export const APP_SCRIPT = `"use strict";\n${constants}\n${body}`;
