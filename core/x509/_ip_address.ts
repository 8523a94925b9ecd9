/**
 * IP address text forms shared by SAN decoding and name matching. IPv6 is written as WHATWG
 * URL hosts write it (RFC 5952 style): lowercase, no leading zeros, longest zero run as `::`.
 *
 * @module
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Formats a 4- or 16-byte address. Other lengths are not addresses and come back as hex. */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes[i] * 256 + bytes[i + 1]);

  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }

  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

/**
 * Normalises an IP address written as text ("10.0.0.1", "[2001:DB8::1]", "2001:db8:0:0::1"),
 * or returns undefined when `text` is not an IP address.
 */
export function normalizeIpAddress(text: string): string | undefined {
  if (IPV4.test(text)) return text;

  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!bare.includes(":") || !/^[0-9a-fA-F:.]+$/.test(bare)) return undefined;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}
