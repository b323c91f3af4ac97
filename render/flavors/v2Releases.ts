// Harbor 2.10-2.15: the releases the v2 flavor knows, the database schema each one migrates to, and
// what an upgrade between two of them must do. Schema versions: the newest file in
// make/migrations/postgresql/ at each tag (../shared/reference/harbor-v2-facts.md §7).

/** Patch releases per minor line, and the schema version of each release. */
const releases: Record<string, { patches: number; schema: (patch: number) => string }> = {
    "2.10": { patches: 3, schema: () => "0130" },
    "2.11": { patches: 2, schema: () => "0140" },
    "2.12": { patches: 4, schema: () => "0150" },
    "2.13": { patches: 5, schema: () => "0160" },
    // 2.14.1 added a migration (0171) to 2.14.0's 0170.
    "2.14": { patches: 4, schema: p => (p === 0 ? "0170" : "0171") },
    "2.15": { patches: 2, schema: () => "0180" },
};

import { UpgradePlan } from "./flavor";

const versionRe = /^v?(\d+)\.(\d+)\.(\d+)$/;

function parse(version: string): [number, number, number] | undefined {
    const m = versionRe.exec(version);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The schema version Harbor `version` migrates its database to, or undefined for an unknown release. */
export function schemaVersion(version: string): string | undefined {
    const v = parse(version);
    if (!v || v[0] !== 2) return undefined;
    const line = releases[`${v[0]}.${v[1]}`];
    return line && v[2] <= line.patches ? line.schema(v[2]) : undefined;
}

/** "2.10.0-2.10.3, ..., 2.15.0-2.15.2", for messages. */
export function knownReleases(): string {
    return Object.entries(releases).map(([line, r]) => `${line}.0-${line}.${r.patches}`).join(", ");
}

function compare(a: [number, number, number], b: [number, number, number]): number {
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * What `pulumi up` must do to go from the deployed Harbor to `to`. Harbor does not run two versions
 * on one schema (a core older than the schema stops at start) and cannot migrate down, so:
 * the same schema goes node by node; a new schema stops every node, migrates on one, then starts
 * the rest. 1.x to 2.x and downgrades are refused with the documented way.
 */
export function upgradePlan(from: string | undefined, to: string, nodeNames: readonly string[]): UpgradePlan {
    const firstNode = nodeNames[0];
    const t = parse(to);
    if (!t) throw new Error(`harbor-ha:harborVersion: "${to}" is not a version`);
    if (from === undefined || from === "") return { kind: "new", message: `Harbor ${to}: a new cluster; ${firstNode} starts first and creates the schema, then the others` };
    const f = parse(from);
    if (!f) throw new Error(`the deployed harborVersion "${from}" is not a version`);
    if (f[0] === 1 && t[0] === 2) {
        throw new Error(`harbor-ha:harborVersion: Harbor ${from} cannot be upgraded to ${to} in place. Harbor's documented path: ` +
            "upgrade the 1.x cluster to 1.9 or 1.10 first (MySQL moves to PostgreSQL at 1.6, harbor.cfg becomes harbor.yml at 1.8; " +
            "Harbor's migration guide), then to 2.x with `prepare migrate`, then deploy a new harbor-ha stack on that database and storage");
    }
    if (compare(t, f) < 0) {
        throw new Error(`harbor-ha:harborVersion: Harbor ${from} cannot be downgraded to ${to}: Harbor's schema migrates up only ` +
            "(goharbor/harbor#17340); restore the database backup taken before the upgrade instead");
    }
    if (compare(t, f) === 0) return { kind: "unchanged", message: `Harbor ${to}: no version change` };
    const [sf, st] = [schemaVersion(from), schemaVersion(to)];
    if (sf !== undefined && sf === st) {
        return { kind: "node-by-node", message: `Harbor ${from} -> ${to}: same schema (${st}): node by node, the others keep serving` };
    }
    return {
        kind: "stop-all",
        message: `Harbor ${from} -> ${to}: schema ${sf ?? "?"} -> ${st}: every node stops, ${firstNode} upgrades and migrates the database, ` +
            `then the others start (Harbor does not run two versions on one schema). DOWNTIME: UpgradeStop stops Harbor on ` +
            `${nodeNames.join(", ")}; the registry answers again once ${firstNode} has migrated`,
    };
}
