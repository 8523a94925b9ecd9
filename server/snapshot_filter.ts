/**
 * The filters of `/api/v1/snapshot`: `?source=&severity=&namespace=`, each a comma-separated
 * list. Values within one filter are alternatives; different filters must all match.
 *
 * @module
 */
import { SEVERITIES, type Severity, type Snapshot, SOURCE_KINDS } from "../core/model.ts";

/** Parsed filters; an absent filter matches everything. */
export interface SnapshotFilter {
  sources?: Set<string>;
  severities?: Set<Severity>;
  namespaces?: Set<string>;
}

/** A query parameter with a value outside its allowed set. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

/**
 * Reads the filters from URL search parameters. Throws {@linkcode FilterError} naming the
 * parameter and the allowed values for an unknown severity or source, or an unknown parameter.
 */
export function parseSnapshotFilter(params: URLSearchParams): SnapshotFilter {
  const filter: SnapshotFilter = {};
  for (const key of params.keys()) {
    if (key !== "source" && key !== "severity" && key !== "namespace") {
      throw new FilterError(
        `unknown query parameter "${key}"; expected source, severity or namespace`,
      );
    }
  }

  const severities = listParam(params, "severity");
  if (severities) {
    for (const severity of severities) {
      if (!(SEVERITIES as readonly string[]).includes(severity)) {
        throw new FilterError(
          `invalid severity "${severity}"; expected one or more of ${SEVERITIES.join(", ")}`,
        );
      }
    }
    filter.severities = new Set(severities as Severity[]);
  }

  const sources = listParam(params, "source");
  if (sources) {
    for (const source of sources) {
      if (!(SOURCE_KINDS as readonly string[]).includes(source)) {
        throw new FilterError(
          `invalid source "${source}"; expected one or more of ${SOURCE_KINDS.join(", ")}`,
        );
      }
    }
    filter.sources = new Set(sources);
  }

  const namespaces = listParam(params, "namespace");
  if (namespaces) filter.namespaces = new Set(namespaces);
  return filter;
}

/**
 * Returns the snapshot with only the matching findings. Discovery errors are kept when their
 * source matches the source filter, since they have no severity or namespace.
 */
export function filterSnapshot(snapshot: Snapshot, filter: SnapshotFilter): Snapshot {
  const findings = snapshot.findings.filter((finding) =>
    (!filter.sources || filter.sources.has(finding.source)) &&
    (!filter.severities || filter.severities.has(finding.severity)) &&
    (!filter.namespaces || filter.namespaces.has(finding.namespace ?? ""))
  );
  const errors = snapshot.errors.filter((error) =>
    !filter.sources || filter.sources.has(error.source)
  );
  return { at: snapshot.at, errors, findings };
}

/**
 * Returns the non-empty comma-separated values of every occurrence of `name`, or undefined when
 * there are none, so `?severity=` filters nothing, as an absent parameter.
 */
function listParam(params: URLSearchParams, name: string): string[] | undefined {
  const values = params.getAll(name)
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter(Boolean);
  return values.length > 0 ? values : undefined;
}
