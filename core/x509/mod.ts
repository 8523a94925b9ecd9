/**
 * X.509 for trustwatch: certificate facts, PEM/DER/PKCS#7 bundles, caBundle decoding, name
 * checks and chain verification.
 *
 * @module
 */
export {
  type CertificateFacts,
  certificateFactsFromDer,
  CertificateParseError,
} from "./certificate.ts";
export {
  type CaBundleEncoding,
  decodeCaBundle,
  parseCertificateBundle,
  type ParsedBundle,
} from "./bundle.ts";
export { coversName } from "./names.ts";
export {
  type ChainCheck,
  MAX_CHAIN_LENGTH,
  MAX_NAMES_IN_MESSAGE,
  verifyChain,
  type VerifyChainOptions,
} from "./verify.ts";
