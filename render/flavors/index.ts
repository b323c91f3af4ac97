// The flavor for a Harbor version. Facts: ../shared/reference/harbor-facts.md, lab/installer/README.md.
import { Flavor } from "./flavor";
import { harborV1 } from "./v1";

export * from "./flavor";

const versionRe = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** The flavor for a Harbor version, or undefined when no flavor supports it. */
export function flavorFor(version: string): Flavor | undefined {
    const m = versionRe.exec(version);
    if (!m) return undefined;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major === 1 && minor >= 1 && minor <= 5) return harborV1(`${m[1]}.${m[2]}.${m[3]}`, minor);
    return undefined;
}

export function requireFlavor(version: string): Flavor {
    const f = flavorFor(version);
    if (!f) throw new Error(`no flavor supports Harbor ${version}`);
    return f;
}
