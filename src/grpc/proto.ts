// Loads the server's .proto definitions once, from text embedded in the executable (no proto/
// folder is needed at run time), and turns their services into grpc-js service definitions.
//
// The proto text is the source of truth for paths, method names and streaming kinds; each method
// brings its own (de)serializers, so the hot LogService path can skip generic protobuf decoding.
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor";
import logServiceText from "../../proto/log_service.proto" with { type: "text" };
import healthText from "./protos/health.proto" with { type: "text" };
import reflectionV1Text from "./protos/reflection-v1.proto" with { type: "text" };

/** v1alpha is the same protocol under its pre-release package name, which older tools still ask for. */
const reflectionV1alphaText = reflectionV1Text.replace("package grpc.reflection.v1;", "package grpc.reflection.v1alpha;");

/** Each embedded file: the name reflection clients see, its package, and its text. */
const SOURCES = [
  { filename: "log_service.proto", pkg: "logservice", text: logServiceText },
  { filename: "grpc/health/v1/health.proto", pkg: "grpc.health.v1", text: healthText },
  { filename: "grpc/reflection/v1/reflection.proto", pkg: "grpc.reflection.v1", text: reflectionV1Text },
  { filename: "grpc/reflection/v1alpha/reflection.proto", pkg: "grpc.reflection.v1alpha", text: reflectionV1alphaText },
] as const;

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const source of SOURCES) {
    // keepCase: field names stay as written (logger_name), as reflection clients expect.
    protobuf.parse(source.text, root, { keepCase: true });
    root.lookup(source.pkg)!.filename = source.filename;
  }
  root.resolveAll();
  return root;
}

/** Every type and service of the embedded files, resolved. */
export const protoRoot = loadRoot();

/** Serialized google.protobuf.FileDescriptorProto of each embedded file, by file name (for reflection). */
export const fileDescriptors: ReadonlyMap<string, Buffer> = new Map(
  (protoRoot.toDescriptor("proto3").file as protobuf.Message[]).map((file) => {
    const bytes = descriptor.FileDescriptorProto.encode(file).finish();
    return [(file as unknown as { name: string }).name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)];
  }),
);

export function lookupType(name: string): protobuf.Type {
  return protoRoot.lookupType(name);
}

export function lookupService(name: string): protobuf.Service {
  return protoRoot.lookupService(name);
}

/** Encodes with protobufjs into a Buffer (grpc-js copies serialized messages with Buffer methods). */
export function encodeMessage(type: protobuf.Type, value: object): Buffer {
  const bytes = type.encode(type.fromObject(value)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Request decoding / response encoding for one method. */
export interface MethodCodec {
  requestDeserialize: (bytes: Buffer) => unknown;
  responseSerialize: (value: unknown) => Buffer;
}

/** The generic codec: requests become plain objects (field names as in the proto, enums as numbers). */
export function protobufCodec(method: protobuf.Method): MethodCodec {
  const requestType = method.resolvedRequestType!;
  const responseType = method.resolvedResponseType!;
  return {
    requestDeserialize: (bytes) => requestType.toObject(requestType.decode(bytes), { oneofs: true }),
    responseSerialize: (value) => encodeMessage(responseType, value as object),
  };
}

/**
 * A grpc-js service definition for `serviceName` (e.g. "logservice.LogService"): one entry per rpc in
 * the proto, each with the codec `codecFor` picks. Client-side (de)serializers are included so the
 * same definition also works for clients in tests.
 */
export function serviceDefinition(
  serviceName: string,
  codecFor: (method: protobuf.Method) => MethodCodec = protobufCodec,
): ServiceDefinition {
  const service = lookupService(serviceName);
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    const codec = codecFor(method);
    const requestType = method.resolvedRequestType!;
    const responseType = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (value) => encodeMessage(requestType, value as object),
      requestDeserialize: codec.requestDeserialize,
      responseSerialize: codec.responseSerialize,
      responseDeserialize: (bytes) => responseType.toObject(responseType.decode(bytes)),
      originalName: method.name,
    };
  }
  return definition;
}
