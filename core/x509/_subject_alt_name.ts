/**
 * Decodes the subjectAltName extension (RFC 5280 4.2.1.6) into DNS names and IP addresses,
 * the two GeneralName forms that TLS name checks use.
 *
 * @module
 */
import { childrenOf, contentOf, readElement } from "./_der.ts";
import { formatIpAddress } from "./_ip_address.ts";

/** OID of the subjectAltName extension. */
export const SUBJECT_ALT_NAME_OID = "2.5.29.17";

const DNS_NAME_TAG = 0x82;
const IP_ADDRESS_TAG = 0x87;

// Non-fatal, so a raw UTF-8 label (an emoji in a dNSName) is reported as written.
const utf8 = new TextDecoder("utf-8");

/** DNS names and IP addresses from a subjectAltName extension value. Throws a DerError. */
export function decodeSubjectAltName(
  value: Uint8Array,
): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of childrenOf(value, readElement(value, 0))) {
    if (name.tag === DNS_NAME_TAG) {
      dnsNames.push(escapeControls(utf8.decode(contentOf(value, name))));
    } else if (name.tag === IP_ADDRESS_TAG) {
      ipAddresses.push(formatIpAddress(contentOf(value, name)));
    }
  }
  return { dnsNames, ipAddresses };
}

/**
 * Writes control characters (C0, DEL, C1) as `\xHH`, so a hostile SAN cannot send terminal
 * escape sequences to whoever prints it.
 */
function escapeControls(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (character) => `\\x${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}
