// Server reflection (grpc.reflection.v1 and the older v1alpha that many tools still call), so
// grpcurl and similar clients can list the services and fetch their descriptors without a .proto.
// Descriptors come from the embedded proto files (proto.ts). None of them imports another file,
// so a file is always answered alone.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { fileDescriptors, protoRoot } from "./proto.ts";

export const REFLECTION_SERVICE_NAMES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] as const;

interface ReflectionRequest {
  host?: string;
  message_request?: "file_by_filename" | "file_containing_symbol" | "file_containing_extension" | "all_extension_numbers_of_type" | "list_services";
  file_by_filename?: string;
  file_containing_symbol?: string;
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/** The embedded file a type, enum or service belongs to: the file of its package. */
function fileOf(object: protobuf.ReflectionObject): string | null {
  for (let ns = object.parent; ns; ns = ns.parent) if (ns.filename && fileDescriptors.has(ns.filename)) return ns.filename;
  return null;
}

/** Fully qualified name (no leading dot) of every message, enum, service and method → its file. */
function symbolFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum || nested instanceof protobuf.Service) {
        const file = fileOf(nested);
        const name = nested.fullName.slice(1);
        if (file) files.set(name, file);
        if (file && nested instanceof protobuf.Service) for (const method of nested.methodsArray) files.set(`${name}.${method.name}`, file);
      }
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
    }
  };
  visit(protoRoot);
  return files;
}

export class ReflectionService {
  readonly #symbols = symbolFiles();

  /** `services`: every service the server offers, as listed to clients. */
  constructor(readonly services: readonly string[]) {}

  readonly handlers: grpc.UntypedServiceImplementation = {
    ServerReflectionInfo: (call: grpc.ServerDuplexStream<ReflectionRequest, object>) => {
      call.on("data", (request: ReflectionRequest) => {
        call.write(this.answer(request));
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  };

  /** The ServerReflectionResponse (as a plain object) to one request. */
  answer(request: ReflectionRequest): object {
    const base = { valid_host: request.host ?? "", original_request: request };
    switch (request.message_request) {
      case "list_services":
        return { ...base, list_services_response: { service: this.services.map((name) => ({ name })) } };
      case "file_by_filename":
        return this.#file(base, request.file_by_filename ?? "", `no file named "${request.file_by_filename}"`);
      case "file_containing_symbol": {
        const symbol = (request.file_containing_symbol ?? "").replace(/^\./, "");
        return this.#file(base, this.#symbols.get(symbol) ?? "", `no symbol named "${symbol}"`);
      }
      case "all_extension_numbers_of_type": {
        const type = (request.all_extension_numbers_of_type ?? "").replace(/^\./, "");
        if (!this.#symbols.has(type)) return error(base, status.NOT_FOUND, `no type named "${type}"`);
        return { ...base, all_extension_numbers_response: { base_type_name: type, extension_number: [] } };
      }
      case "file_containing_extension":
        return error(base, status.NOT_FOUND, "this server's types declare no extensions");
      default:
        return error(base, status.INVALID_ARGUMENT, "the request names no reflection query");
    }
  }

  #file(base: object, filename: string, notFound: string): object {
    const bytes = fileDescriptors.get(filename);
    if (!bytes) return error(base, status.NOT_FOUND, notFound);
    return { ...base, file_descriptor_response: { file_descriptor_proto: [bytes] } };
  }
}

function error(base: object, code: status, message: string): object {
  return { ...base, error_response: { error_code: code, error_message: message } };
}
