// The version printed by `log_server --version`; package.json is the single source (bundled at compile time).
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
