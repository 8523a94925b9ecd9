/**
 * Formats an X.501 Name as one RFC 4514 line: most specific RDN first
 * (`CN=webhook.ns.svc,O=Acme`), multi-valued RDNs joined with `+`, special characters escaped.
 *
 * @module
 */
import { childrenOf, decodeOid, DerElement, encodingOf, TAG, toHex } from "./_der.ts";

/** Short attribute names as RFC 4514 and OpenSSL print them. Other types print as the OID. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.17": "postalCode",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");
const utf16 = new TextDecoder("utf-16be");

/** Formats the Name element `name` (a SEQUENCE of RDN SETs) found in `bytes`. */
export function formatDistinguishedName(bytes: Uint8Array, name: DerElement): string {
  const relativeNames = childrenOf(bytes, name).map((set) =>
    childrenOf(bytes, set).map((attribute) => formatAttribute(bytes, attribute)).join("+")
  );
  // An empty RDN SET is invalid but occurs in test certificates. It adds nothing to the name.
  return relativeNames.filter((relativeName) => relativeName !== "").reverse().join(",");
}

function formatAttribute(bytes: Uint8Array, attribute: DerElement): string {
  const [type, value] = childrenOf(bytes, attribute);
  const oid = decodeOid(bytes, type);
  const text = decodeString(bytes, value);
  const name = ATTRIBUTE_NAMES[oid] ?? oid;
  if (text === undefined) return `${name}=#${toHex(encodingOf(bytes, value))}`;
  return `${name}=${escapeValue(text)}`;
}

function decodeString(bytes: Uint8Array, value: DerElement): string | undefined {
  const content = bytes.subarray(value.contentStart, value.end);
  switch (value.tag) {
    case TAG.utf8String:
    case TAG.printableString:
    case TAG.ia5String:
    case TAG.numericString:
    case TAG.visibleString:
      return utf8.decode(content);
    case TAG.t61String:
      return latin1.decode(content);
    case TAG.bmpString:
      return utf16.decode(content);
    case TAG.universalString:
      return decodeUtf32(content);
    default:
      return undefined;
  }
}

function decodeUtf32(content: Uint8Array): string {
  let text = "";
  for (let i = 0; i + 3 < content.length; i += 4) {
    const codePoint = ((content[i] << 24) | (content[i + 1] << 16) | (content[i + 2] << 8) |
      content[i + 3]) >>> 0;
    text += codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : "\ufffd";
  }
  return text;
}

function escapeValue(value: string): string {
  // Control characters (C0, DEL, C1) become RFC 4514 hex pairs, so a hostile subject cannot send
  // terminal escape sequences to whoever prints it.
  let escaped = value.replace(
    // deno-lint-ignore no-control-regex
    /[\\",+;<>\u0000-\u001f\u007f-\u009f]/g,
    (character) =>
      isControlCharacter(character)
        ? `\\${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`
        : `\\${character}`,
  );
  if (escaped.startsWith("#") || escaped.startsWith(" ")) escaped = `\\${escaped}`;
  if (escaped.endsWith(" ") && escaped.length > 1) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

function isControlCharacter(character: string): boolean {
  const code = character.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}
