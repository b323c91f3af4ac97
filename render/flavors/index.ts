// The flavor for a Harbor version. Facts: ../shared/reference/harbor-facts.md, lab/installer/README.md.
import { Flavor } from "./flavor";
import { harborV1 } from "./v1";
import { harborV2 } from "./v2";
import { knownReleases, schemaVersion } from "./v2Releases";

export * from "./flavor";

const versionRe = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** The flavor for a Harbor version, or undefined when no flavor supports it. */
export function flavorFor(text: string): Flavor | undefined {
    const m = versionRe.exec(text);
    if (!m) return undefined;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    const version = `${m[1]}.${m[2]}.${m[3]}`;
    if (major === 1 && minor >= 1 && minor <= 5) return harborV1(version, minor);
    // Only releases whose schema version is known: an upgrade must know whether it changes.
    if (major === 2 && schemaVersion(version) !== undefined) return harborV2(version);
    return undefined;
}

/** Why no flavor supports a version, for the validator. */
export function unsupportedReason(version: string): string {
    const m = versionRe.exec(version);
    if (!m) return `"${version}" is not a version like 2.15.2`;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major === 1 && minor >= 6) {
        return `Harbor ${version} is not supported: 1.6-1.10 moved to PostgreSQL but keep the 1.x layout; ` +
            "supported are 1.1.x-1.5.x (MySQL) and 2.10-2.15 (PostgreSQL)";
    }
    if (major === 2) return `Harbor ${version} is not a release this program knows the schema of; supported are ${knownReleases()}`;
    return `Harbor ${version} is not supported: supported are 1.1.x-1.5.x and ${knownReleases()}`;
}

export function requireFlavor(version: string): Flavor {
    const f = flavorFor(version);
    if (!f) throw new Error(`no flavor supports Harbor ${version}`);
    return f;
}
