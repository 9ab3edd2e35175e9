/**
 * The version from package.json and the git commit the binary was built from.
 * The build defines VMAUDIT_COMMIT; from source it is "dev".
 */
import pkg from "../package.json" with { type: "json" };

declare const VMAUDIT_COMMIT: string | undefined;

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof VMAUDIT_COMMIT === "string" ? VMAUDIT_COMMIT : "dev";
export const VERSION_LINE = `${VERSION} (commit ${COMMIT})`;
