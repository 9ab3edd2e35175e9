/**
 * vmaudit entry point: run the command and exit with its code. Nothing else
 * happens here. (No top-level await, so the binary can be built with
 * --bytecode.)
 */
import { runMain } from "./src/cli/run_main.ts";
import { COMMANDS } from "./src/commands/index.ts";

runMain(process.argv.slice(2), COMMANDS).then((code) => process.exit(code));
