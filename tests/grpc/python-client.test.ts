// An independent client: Debian's python3-grpcio, with stubs generated at test time from the
// published proto by grpc_tools.protoc. Calls both service names (unary and stream), health, and
// reflection the way grpcurl does (descriptor → dynamic message → call).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { type ServerProcess, tempDir } from "../support/server-process.ts";
import { lineMessage, lineSequence, PROTO_DIR, STANDARD_PROTO_DIR, startGrpcServer } from "./support.ts";

const PYTHON = "/usr/bin/python3";
const STREAM_RECORDS = 1000;

// On a developer machine without the Debian packages this client is skipped, visibly; in CI
// (.ci/run installs them) a missing client is a failure, never a skip.
const pythonGrpcMissing = spawnSync(PYTHON, ["-c", "import grpc, grpc_tools"]).status !== 0;
const skipPython = pythonGrpcMissing && !process.env.CI;

describe.skipIf(skipPython)(
  "python3-grpcio client (skipped when python3-grpcio and python3-grpc-tools are not installed; .ci/run installs them)",
  () => {
    let server: ServerProcess;
    let stubs: string;

    async function run(command: string[]): Promise<string> {
      const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0) throw new Error(`${command.join(" ")} exited with ${code}:\n${out}${err}`);
      return out;
    }

    beforeAll(async () => {
      stubs = tempDir("log_server-pystubs-");
      await run([
        PYTHON, "-m", "grpc_tools.protoc", `-I${PROTO_DIR}`, `-I${STANDARD_PROTO_DIR}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`,
        path.join(PROTO_DIR, "log_service.proto"), path.join(STANDARD_PROTO_DIR, "health.proto"), path.join(STANDARD_PROTO_DIR, "reflection-v1.proto"),
      ]);
      server = await startGrpcServer();
    });

    afterAll(async () => {
      expect(await server.stop()).toBe(0);
    });

    test("python3-grpcio: both service names, streams, refusals, health and reflection", async () => {
      const result = JSON.parse(await run([PYTHON, path.join(import.meta.dir, "python_client.py"), stubs, String(server.grpcPort)]));
      const lines = server.logLines();

      for (const name of ["LogService", "LogBridge"]) {
        expect(result[`${name}.LogMessage`]).toBe(true);
        const line = lines.find((l) => l.includes(`from python via ${name}`))!;
        expect(line.slice(11)).toBe(
          "2025-01-28 12:34:56.123456     py-host         py.logger       CRITICAL python_client.py log_calls       42    " +
            `from python via ${name}: naïve café` +
            " [metadata: mod=client path=/tests/grpc/python_client.py pid=1 pname=python3 tid=2 tname=MainThread svc=py-svc]",
        );

        const streamed = lines.filter((l) => lineMessage(l).startsWith(`python stream ${name} `));
        expect(streamed.map(lineMessage)).toEqual(Array.from({ length: STREAM_RECORDS }, (_, i) => `python stream ${name} ${i}`));
        expect(result[`${name}.LogStream`]).toEqual({
          accepted: STREAM_RECORDS,
          first_sequence: lineSequence(streamed[0]),
          last_sequence: lineSequence(streamed.at(-1)!),
        });

        expect(result[`${name}.level12`].code).toBe("INVALID_ARGUMENT");
        expect(result[`${name}.level12`].details).toContain("level 12 is not a Level");
      }

      expect(result.health).toEqual({ "": "SERVING", "logservice.LogService": "SERVING", "logservice.LogBridge": "SERVING" });
      expect(result["health.unknown"].code).toBe("NOT_FOUND");
      expect(result["health.watch"]).toBe("SERVING");

      expect(result["reflection.services"]).toEqual([
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "logservice.LogBridge",
        "logservice.LogService",
      ]);
      expect(result["reflection.methods"]).toEqual(["LogMessage", "LogStream"]);
      expect(result["reflection.call"]).toBe(true);
      expect(server.logLines().some((l) => lineMessage(l) === "dynamic message built from reflection")).toBe(true);
    }, 120_000);
  },
);
