/**
 * The web UI's stylesheet, served as `/assets/app.css`. No fonts or images are fetched.
 *
 * @module
 */

/** The stylesheet at `/assets/app.css`. */
export const STYLESHEET = `
:root {
  --critical: #b3261e;
  --warn: #9a6700;
  --info: #55606e;
  --border: #d0d7de;
  --muted: #57606a;
  --selected: #f6f8fa;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328;
}
body { margin: 0; padding: 0 1.5rem 2rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.1rem; }
#scan-status { color: var(--muted); margin: 0; }
#counts { display: flex; gap: 0.75rem; margin: 0; }
.count { font-weight: 600; }
.sev-critical .severity, .count.sev-critical, .sev.sev-critical { color: var(--critical); }
.sev-warn .severity, .count.sev-warn, .sev.sev-warn { color: var(--warn); }
.sev-info .severity, .count.sev-info, .sev.sev-info { color: var(--info); }
#scan-errors { border-left: 4px solid var(--critical); padding: 0 1rem; margin: 1rem 0; }
#filters { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.25rem; margin: 1rem 0; }
#filters fieldset { border: 1px solid var(--border); padding: 0.25rem 0.75rem; display: flex; gap: 0.75rem; }
#filters legend { font-size: 0.8rem; color: var(--muted); }
#filter-text { min-width: 16rem; }
#shown-count { color: var(--muted); font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th { position: sticky; top: 0; background: #fff; }
tr.finding { cursor: pointer; }
tr.finding:hover, tr.finding:focus { background: var(--selected); outline: none; }
td.severity { font-weight: 600; text-transform: uppercase; }
td.where, td.detail-line { overflow-wrap: anywhere; }
td.expires .exact { display: block; color: var(--muted); font-size: 0.8rem; }
#empty { color: var(--muted); }
#detail {
  position: fixed; top: 0; right: 0; bottom: 0; width: min(40rem, 100%);
  overflow-y: auto; background: #fff; border-left: 1px solid var(--border);
  box-shadow: -4px 0 12px rgba(0, 0, 0, 0.08); padding: 1rem 1.5rem;
}
#detail-close { float: right; font-size: 1.4rem; background: none; border: none; cursor: pointer; }
#detail-title { overflow-wrap: anywhere; }
#detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; }
#detail dt { font-weight: 600; color: var(--muted); }
#detail dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
#detail dd.absent { color: #8c959f; }
#detail dd ul { margin: 0; padding-left: 1.1rem; }
`;
