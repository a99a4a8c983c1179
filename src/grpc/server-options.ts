// grpc-js server options, in one place. Units are in the key names.
import type { ServerOptions } from "@grpc/grpc-js";

export const GRPC_SERVER_OPTIONS = {
  // Largest request accepted. A LogRequest may carry a 1 MiB message plus a long stack trace and 14
  // short fields; 16 MiB leaves room for that and still bounds what one call can make us buffer.
  // Larger requests get RESOURCE_EXHAUSTED from grpc-js.
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
  // Our answers are a few bytes (reflection descriptors about 1 KiB).
  "grpc.max_send_message_length": 4 * 1024 * 1024,
  // Ping a connection after this long without one, so connections silently dropped by a NAT or a
  // crashed client host are noticed and their resources freed.
  "grpc.keepalive_time_ms": 60_000,
  // ... and close it if the ping is not answered within this time.
  "grpc.keepalive_timeout_ms": 20_000,
  // Concurrent calls per connection; a client with more in flight queues them on its side. Bounds
  // what one connection can hold open (each call waits in memory until its record is written).
  "grpc.max_concurrent_streams": 1000,
  // No channelz: this server does not serve the channelz service, and its per-call bookkeeping
  // costs throughput on every request.
  "grpc.enable_channelz": 0,
} as const satisfies ServerOptions;
