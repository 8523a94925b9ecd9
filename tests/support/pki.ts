/**
 * Test-time certificate authority: issues CA, intermediate and leaf certificates with chosen
 * lifetimes, names and key types, so fixtures never rot.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

/** Milliseconds in one day. */
export const DAY_MS = 86_400_000;

/** Key types the test CA can issue. */
export type KeyType = "ec256" | "rsa2048" | "rsa1024";

/** What to put in a certificate. Dates default to "issued a day ago, valid for a year". */
export interface CertificateOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Issue a CA certificate (basicConstraints CA:TRUE, keyCertSign). */
  isCA?: boolean;
  /** Signing certificate; omitted means self-signed. */
  issuer?: IssuedCertificate;
  /** @default {"ec256"} */
  keyType?: KeyType;
  /** Serial number as hex; random when omitted. */
  serialHex?: string;
}

/** A certificate with its key, in the forms tests need. */
export interface IssuedCertificate {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** The certificate as one PEM block. */
  certPem: string;
  /** The private key as a PKCS#8 PEM block. */
  keyPem: string;
  der: Uint8Array;
  subject: string;
  /** Serial number as uppercase hex, as trustwatch reports it. */
  serialHex: string;
  keyType: KeyType;
}

/** Returns the date `days` days from now (negative for the past). */
export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * DAY_MS);
}

function algorithmFor(keyType: KeyType): RsaHashedKeyGenParams | EcKeyGenParams & { hash: string } {
  switch (keyType) {
    case "ec256":
      return { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    case "rsa2048":
    case "rsa1024":
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: keyType === "rsa2048" ? 2048 : 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      };
  }
}

function randomSerialHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x10;
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function toPem(der: ArrayBuffer, label: string): string {
  const base64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Issues a certificate signed by `options.issuer`, or self-signed when there is none. */
export async function issueCertificate(options: CertificateOptions): Promise<IssuedCertificate> {
  const keyType = options.keyType ?? "ec256";
  const algorithm = algorithmFor(keyType);
  const keys = await crypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const serialHex = options.serialHex ?? randomSerialHex();
  const subject = `CN=${options.commonName}`;

  const altNames: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(options.isCA ?? false, undefined, true),
    new x509.KeyUsagesExtension(
      options.isCA
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (!options.isCA) extensions.push(new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1"]));
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  if (options.issuer) {
    extensions.push(
      await x509.AuthorityKeyIdentifierExtension.create(options.issuer.keys.publicKey),
    );
  }

  const signer = options.issuer ?? { keys, subject, keyType };
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject,
    issuer: signer.subject,
    notBefore: options.notBefore ?? daysFromNow(-1),
    notAfter: options.notAfter ?? daysFromNow(365),
    signingAlgorithm: algorithmFor(signer.keyType),
    publicKey: keys.publicKey,
    signingKey: signer.keys.privateKey,
    extensions,
  });

  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certificate,
    keys,
    certPem: certificate.toString("pem") + "\n",
    keyPem: toPem(pkcs8, "PRIVATE KEY"),
    der: new Uint8Array(certificate.rawData),
    subject,
    serialHex,
    keyType,
  };
}

/** Concatenates PEM blocks into one bundle, leaf first. */
export function pemBundle(...certificates: IssuedCertificate[]): string {
  return certificates.map((certificate) => certificate.certPem).join("");
}

/** A root CA, an intermediate and a leaf for `dnsNames`, with the leaf valid for `leafDays`. */
export interface ChainOptions {
  dnsNames: string[];
  leafNotBefore?: Date;
  leafNotAfter?: Date;
  leafKeyType?: KeyType;
  /** Name prefix for the CA subjects, so tests can tell chains apart. */
  label?: string;
}

/** A three-level PKI: root, intermediate, leaf. */
export interface IssuedChain {
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
  leaf: IssuedCertificate;
}

/** Issues a root CA, an intermediate CA and a leaf for the given names. */
export async function issueChain(options: ChainOptions): Promise<IssuedChain> {
  const label = options.label ?? "trustwatch test";
  const root = await issueCertificate({
    commonName: `${label} root CA`,
    isCA: true,
    notAfter: daysFromNow(3650),
  });
  const intermediate = await issueCertificate({
    commonName: `${label} intermediate CA`,
    isCA: true,
    issuer: root,
    notAfter: daysFromNow(1825),
  });
  const leaf = await issueCertificate({
    commonName: options.dnsNames[0] ?? `${label} leaf`,
    dnsNames: options.dnsNames,
    issuer: intermediate,
    notBefore: options.leafNotBefore,
    notAfter: options.leafNotAfter,
    keyType: options.leafKeyType,
  });
  return { root, intermediate, leaf };
}
