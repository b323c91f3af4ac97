// Where a lab stack's run-time config lives: outside the repository, with the lab's other state.
import * as path from "node:path";

export const repoRoot = path.join(__dirname, "..");
export const cacheRoot = process.env.HARBOR_HA_CACHE ?? "/var/cache/harbor-ha";

/** Pulumi runs a lab stack with `--config-file` this file (written by scripts/lab-stack-config.ts). */
export function labStackConfigPath(stack: string): string {
    return path.join(cacheRoot, "lab", "state", `Pulumi.${stack}.yaml`);
}
