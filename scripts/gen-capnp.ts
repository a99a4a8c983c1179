// Regenerates src/capnp/*.ts from schema/*.capnp with capnp-es's code generator.
// Needs the `capnp` compiler (Debian: capnproto) at development time only; the output is committed.
import { $ } from "bun";

const root = new URL("..", import.meta.url).pathname;
const plugin = `${root}node_modules/.bin/capnpc-ts`;
await $`capnp compile -o ${plugin}:${root}src/capnp --src-prefix=${root}schema ${root}schema/logger.capnp ${root}schema/hello.capnp`;
