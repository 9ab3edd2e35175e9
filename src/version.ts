/**
 * The version from package.json and the git commit the binary was built from.
 * The build defines VMAUDIT_COMMIT (from source it is "dev") and VMAUDIT_DATE.
 */
import pkg from "../package.json" with { type: "json" };

declare const VMAUDIT_COMMIT: string | undefined;
declare const VMAUDIT_DATE: string | undefined;

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof VMAUDIT_COMMIT === "string" ? VMAUDIT_COMMIT : "dev";
/**
 * The build's date, YYYY-MM-DD: SOURCE_DATE_EPOCH or the commit's time, never
 * the time of the build (scripts/build.ts), so a rebuild gives the same
 * bytes. Empty from source or when the build could tell neither.
 */
export const BUILD_DATE: string = typeof VMAUDIT_DATE === "string" ? VMAUDIT_DATE : "";
export const VERSION_LINE = `${VERSION} (commit ${COMMIT})`;
