/**
 * A hand-written TLS 1.2 ClientHello that TLS 1.0, 1.1 and 1.2 servers all accept, used to read
 * a certificate chain that rustls rejects.
 *
 * @module
 */

/** Cipher suites offered, strongest first, then legacy ones so old servers still pick one. */
export const LEGACY_OFFERED_CIPHER_SUITES: readonly number[] = [
  0xc02b, // ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  0xc02f, // ECDHE_RSA_WITH_AES_128_GCM_SHA256
  0xc02c, // ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
  0xc030, // ECDHE_RSA_WITH_AES_256_GCM_SHA384
  0xcca9, // ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  0xcca8, // ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
  0x009e, // DHE_RSA_WITH_AES_128_GCM_SHA256
  0x009f, // DHE_RSA_WITH_AES_256_GCM_SHA384
  0xc023, // ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
  0xc027, // ECDHE_RSA_WITH_AES_128_CBC_SHA256
  0xc024, // ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
  0xc028, // ECDHE_RSA_WITH_AES_256_CBC_SHA384
  0xc009, // ECDHE_ECDSA_WITH_AES_128_CBC_SHA
  0xc013, // ECDHE_RSA_WITH_AES_128_CBC_SHA
  0xc00a, // ECDHE_ECDSA_WITH_AES_256_CBC_SHA
  0xc014, // ECDHE_RSA_WITH_AES_256_CBC_SHA
  0x0067, // DHE_RSA_WITH_AES_128_CBC_SHA256
  0x006b, // DHE_RSA_WITH_AES_256_CBC_SHA256
  0x0033, // DHE_RSA_WITH_AES_128_CBC_SHA
  0x0039, // DHE_RSA_WITH_AES_256_CBC_SHA
  0x009c, // RSA_WITH_AES_128_GCM_SHA256
  0x009d, // RSA_WITH_AES_256_GCM_SHA384
  0x003c, // RSA_WITH_AES_128_CBC_SHA256
  0x003d, // RSA_WITH_AES_256_CBC_SHA256
  0x002f, // RSA_WITH_AES_128_CBC_SHA
  0x0035, // RSA_WITH_AES_256_CBC_SHA
  0x0041, // RSA_WITH_CAMELLIA_128_CBC_SHA
  0x0084, // RSA_WITH_CAMELLIA_256_CBC_SHA
  0xc012, // ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
  0xc008, // ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
  0x0016, // DHE_RSA_WITH_3DES_EDE_CBC_SHA
  0x000a, // RSA_WITH_3DES_EDE_CBC_SHA
  0xc011, // ECDHE_RSA_WITH_RC4_128_SHA
  0xc007, // ECDHE_ECDSA_WITH_RC4_128_SHA
  0x0005, // RSA_WITH_RC4_128_SHA
  0x0004, // RSA_WITH_RC4_128_MD5
  0x0009, // RSA_WITH_DES_CBC_SHA
  0x0003, // RSA_EXPORT_WITH_RC4_40_MD5
  0x0008, // RSA_EXPORT_WITH_DES40_CBC_SHA
  0x003b, // RSA_WITH_NULL_SHA256
  0x0002, // RSA_WITH_NULL_SHA
];

const TLS_1_0_RECORD_VERSION = 0x0301;
const TLS_1_2_CLIENT_VERSION = 0x0303;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_TYPE_CLIENT_HELLO = 1;

const EXTENSION_SERVER_NAME = 0x0000;
const EXTENSION_SUPPORTED_GROUPS = 0x000a;
const EXTENSION_EC_POINT_FORMATS = 0x000b;
const EXTENSION_SIGNATURE_ALGORITHMS = 0x000d;
const EXTENSION_RENEGOTIATION_INFO = 0xff01;

/** x25519, secp256r1, secp384r1, secp521r1. */
const SUPPORTED_GROUPS = [0x001d, 0x0017, 0x0018, 0x0019];

/** RSA PKCS#1, ECDSA and RSA-PSS with SHA-256/384/512, then the SHA-1 forms old servers need. */
const SIGNATURE_ALGORITHMS = [
  0x0401,
  0x0403,
  0x0804,
  0x0501,
  0x0503,
  0x0805,
  0x0601,
  0x0603,
  0x0806,
  0x0201,
  0x0203,
];

function uint16(value: number): number[] {
  return [(value >> 8) & 0xff, value & 0xff];
}

function uint24(value: number): number[] {
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

/** Prefixes `body` with its length in `lengthBytes` bytes, as TLS vectors are encoded. */
function vector(body: number[], lengthBytes: 1 | 2 | 3): number[] {
  const length = lengthBytes === 1
    ? [body.length]
    : lengthBytes === 2
    ? uint16(body.length)
    : uint24(body.length);
  return [...length, ...body];
}

function extension(type: number, body: number[]): number[] {
  return [...uint16(type), ...vector(body, 2)];
}

function serverNameExtension(serverName: string): number[] {
  const hostName = [0, ...vector([...new TextEncoder().encode(serverName)], 2)];
  return extension(EXTENSION_SERVER_NAME, vector(hostName, 2));
}

/**
 * Builds one TLS record that contains a ClientHello offering TLS 1.2 and below. `serverName` is
 * sent as SNI when given. It must be a DNS name, because SNI does not carry IP literals.
 * `clientVersion` is the highest version offered (`0x0301` offers TLS 1.0 only, because this
 * ClientHello carries no supported_versions extension).
 */
export function buildClientHello(
  serverName?: string,
  clientVersion: number = TLS_1_2_CLIENT_VERSION,
): Uint8Array {
  const extensions = [
    ...(serverName ? serverNameExtension(serverName) : []),
    ...extension(EXTENSION_SUPPORTED_GROUPS, vector(SUPPORTED_GROUPS.flatMap(uint16), 2)),
    ...extension(EXTENSION_EC_POINT_FORMATS, vector([0], 1)),
    ...extension(EXTENSION_SIGNATURE_ALGORITHMS, vector(SIGNATURE_ALGORITHMS.flatMap(uint16), 2)),
    ...extension(EXTENSION_RENEGOTIATION_INFO, vector([], 1)),
  ];

  const body = [
    ...uint16(clientVersion),
    ...crypto.getRandomValues(new Uint8Array(32)),
    ...vector([], 1),
    ...vector(LEGACY_OFFERED_CIPHER_SUITES.flatMap(uint16), 2),
    ...vector([0], 1),
    ...vector(extensions, 2),
  ];

  const handshake = [HANDSHAKE_TYPE_CLIENT_HELLO, ...vector(body, 3)];
  const record = [
    CONTENT_TYPE_HANDSHAKE,
    ...uint16(TLS_1_0_RECORD_VERSION),
    ...vector(handshake, 2),
  ];
  return new Uint8Array(record);
}
