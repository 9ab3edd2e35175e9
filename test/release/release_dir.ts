/**
 * Where the release under test is: `VMAUDIT_RELEASE_DIR`, which
 * `npm run test:release` (scripts/test_release.ts) sets to its temp build or
 * to `--dir DIR`; else dist/release/ from `npm run release`.
 */
import { join, resolve } from "node:path";
import { REPO } from "../helpers/env.ts";

export const RELEASE = process.env.VMAUDIT_RELEASE_DIR
  ? resolve(process.env.VMAUDIT_RELEASE_DIR)
  : join(REPO, "dist", "release");
