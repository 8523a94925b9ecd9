/**
 * The HTML shell of the web UI. It contains no cluster data: the script fills the page from
 * `/api/v1/snapshot` with DOM text nodes, so nothing read from a certificate is ever parsed as
 * HTML.
 *
 * @module
 */
import { SEVERITIES } from "../../core/model.ts";

/** Path of the page's script. */
export const SCRIPT_PATH = "/assets/app.js";
/** Path of the page's stylesheet. */
export const STYLESHEET_PATH = "/assets/app.css";

/** Severities the page shows before the user changes the filter: the problems. */
const DEFAULT_SEVERITIES = new Set(["critical", "warn"]);

const severityCheckboxes = SEVERITIES.map((severity) =>
  `<label class="sev sev-${severity}"><input type="checkbox" id="filter-${severity}" ` +
  `value="${severity}"${DEFAULT_SEVERITIES.has(severity) ? " checked" : ""}> ${severity}</label>`
).join("\n        ");

/** The page at `/`. Paths are relative, so the UI works behind a path-prefixing proxy. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>trustwatch</title>
  <link rel="stylesheet" href=".${STYLESHEET_PATH}">
  <script src=".${SCRIPT_PATH}" defer></script>
</head>
<body>
  <header>
    <h1>trustwatch</h1>
    <p id="scan-status" role="status">Waiting for the first scan…</p>
    <p id="counts"></p>
  </header>
  <section id="scan-errors" hidden>
    <h2>Discovery errors</h2>
    <ul id="scan-error-list"></ul>
  </section>
  <main>
    <form id="filters" role="search">
      <fieldset>
        <legend>Severity</legend>
        ${severityCheckboxes}
      </fieldset>
      <label>Source <select id="filter-source"><option value="">all</option></select></label>
      <label>Namespace <select id="filter-namespace"><option value="">all</option></select></label>
      <label>Search <input type="search" id="filter-text" placeholder="name, subject, SAN, issuer…" autocomplete="off"></label>
      <span id="shown-count"></span>
    </form>
    <table id="findings">
      <thead>
        <tr>
          <th>Severity</th>
          <th class="cluster-column" hidden>Cluster</th>
          <th>Source</th>
          <th>Where</th>
          <th>Expires</th>
          <th>Finding</th>
          <th>Detail</th>
        </tr>
      </thead>
      <tbody></tbody>
    </table>
    <p id="empty" hidden></p>
  </main>
  <aside id="detail" hidden aria-labelledby="detail-title">
    <button type="button" id="detail-close" aria-label="Close">×</button>
    <h2 id="detail-title"></h2>
    <dl id="detail-fields"></dl>
  </aside>
</body>
</html>
`;
