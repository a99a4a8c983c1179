// `bun run build`: compiles src/main.ts into one self-contained executable, dist/log_server.
// The proto and all code are bundled in, so the binary runs from any directory.
import { compileLogServer } from "./compile.ts";

const outfile = await compileLogServer({ outfile: "dist/log_server" });
console.log(`built ${outfile}`);
