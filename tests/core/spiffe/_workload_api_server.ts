/**
 * A real SPIFFE Workload API server for tests: `@grpc/grpc-js` on a unix socket in a temporary
 * directory, serving X.509 bundles that tests choose. Its protobuf encoder is written here,
 * independently of the client's decoder, so a shared misreading of the wire format cannot hide.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";

/** One trust domain's bundle as the server sends it. */
export interface ServedBundle {
  /** Map key as sent, e.g. `spiffe://example.org`. */
  trustDomainId: string;
  /** DER certificates; concatenated on the wire. */
  certificates: Uint8Array[];
}

/** Responses of the server, per RPC. */
export interface WorkloadApiBehaviour {
  /** Bundles of FetchX509Bundles, or a gRPC status code to fail with (12 = UNIMPLEMENTED). */
  x509Bundles?: ServedBundle[] | { failWith: grpc.status; details: string };
  /** SVID response of FetchX509SVID; without it the RPC fails with PERMISSION_DENIED. */
  x509Svid?: {
    svids: { spiffeId: string; bundle: ServedBundle["certificates"] }[];
    federated: ServedBundle[];
  };
}

/** A running test server. */
export interface WorkloadApiServer {
  socketPath: string;
  /** `unix://` address of the socket. */
  address: string;
  /** Value of the `workload.spiffe.io` header of each request, in order, `undefined` when absent. */
  securityHeaders: (string | undefined)[];
  /** RPC method paths called, in order. */
  calls: string[];
  close(): Promise<void>;
}

const identity = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (value: Buffer) => value,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (value: Buffer) => value,
};

const SERVICE: grpc.ServiceDefinition = {
  FetchX509Bundles: {
    path: "/SpiffeWorkloadAPI/FetchX509Bundles",
    requestStream: false,
    responseStream: true,
    ...identity,
  },
  FetchX509SVID: {
    path: "/SpiffeWorkloadAPI/FetchX509SVID",
    requestStream: false,
    responseStream: true,
    ...identity,
  },
};

/** Starts a Workload API server on a new unix socket. It rejects requests without the header. */
export async function startWorkloadApiServer(
  behaviour: WorkloadApiBehaviour,
): Promise<WorkloadApiServer> {
  const dir = await Deno.makeTempDir({ prefix: "trustwatch-spiffe-" });
  const socketPath = `${dir}/agent.sock`;
  const securityHeaders: (string | undefined)[] = [];
  const calls: string[] = [];
  const server = new grpc.Server();

  const admit = (call: grpc.ServerWritableStream<Buffer, Buffer>, path: string): boolean => {
    calls.push(path);
    const header = call.metadata.get("workload.spiffe.io")[0]?.toString();
    securityHeaders.push(header);
    if (header === "true") return true;
    call.emit("error", {
      code: grpc.status.INVALID_ARGUMENT,
      details: "security header missing from request",
    });
    return false;
  };

  server.addService(SERVICE, {
    FetchX509Bundles: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      if (!admit(call, SERVICE.FetchX509Bundles.path)) return;
      const answer = behaviour.x509Bundles;
      if (answer === undefined || !Array.isArray(answer)) {
        call.emit("error", {
          code: answer?.failWith ?? grpc.status.UNIMPLEMENTED,
          details: answer?.details ?? "not implemented by this agent",
        });
        return;
      }
      // Like an agent, keep the stream open after the first message until the client cancels.
      call.write(Buffer.from(encodeX509BundlesResponse(answer)));
    },
    FetchX509SVID: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      if (!admit(call, SERVICE.FetchX509SVID.path)) return;
      if (!behaviour.x509Svid) {
        call.emit("error", { code: grpc.status.PERMISSION_DENIED, details: "no identity issued" });
        return;
      }
      call.write(Buffer.from(encodeX509SvidResponse(behaviour.x509Svid)));
    },
  });

  await new Promise<void>((resolve, reject) =>
    server.bindAsync(
      `unix://${socketPath}`,
      grpc.ServerCredentials.createInsecure(),
      (error) => error ? reject(error) : resolve(),
    )
  );

  return {
    socketPath,
    address: `unix://${socketPath}`,
    securityHeaders,
    calls,
    close: async () => {
      server.forceShutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Encodes `X509BundlesResponse { map<string, bytes> bundles = 2; }`. */
export function encodeX509BundlesResponse(bundles: ServedBundle[]): Uint8Array {
  return concat(bundles.map((bundle) => field(2, mapEntry(bundle))));
}

/** Encodes `X509SVIDResponse { repeated X509SVID svids = 1; map<...> federated_bundles = 3; }`. */
export function encodeX509SvidResponse(response: NonNullable<WorkloadApiBehaviour["x509Svid"]>) {
  const svids = response.svids.map((svid) =>
    field(
      1,
      concat([
        field(1, utf8(svid.spiffeId)),
        // A placeholder certificate and key: the client must skip both without reading them.
        field(2, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])),
        field(3, utf8("not a real key")),
        field(4, concat(svid.bundle)),
        field(5, utf8("internal")),
      ]),
    )
  );
  const federated = response.federated.map((bundle) => field(3, mapEntry(bundle)));
  return concat([...svids, ...federated]);
}

function mapEntry(bundle: ServedBundle): Uint8Array {
  return concat([field(1, utf8(bundle.trustDomainId)), field(2, concat(bundle.certificates))]);
}

/** A length-delimited field: tag (field number, wire type 2), varint length, payload. */
function field(number: number, payload: Uint8Array): Uint8Array {
  return concat([varint(number * 8 + 2), varint(payload.length), payload]);
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return new Uint8Array(bytes);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
