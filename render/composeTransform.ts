// Seed step 3: the stock docker-compose.yml rewritten for the HA layout. Parsed and written with the
// yaml library so comments, order and every untouched setting survive.
import * as path from "path";
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";

export interface ComposeTransform {
    /** Every volume under this prefix (the stock "/data") moves under dataPath. */
    dataVolumePrefix: string;
    dataPath: string;
    /** Volumes (by their stock path) that stay on each node instead, and where: { "/data/config": "/opt/harbor/node-local/config" }. */
    nodeLocal?: Readonly<Record<string, string>>;
    /** Services replaced by external ones: removed with every depends_on on them. */
    dropServices: readonly string[];
    proxyService: string;
    /** The proxy's published ports, e.g. ["8070:80"]. */
    proxyPorts: string[];
}

/** The path under dataPath, keeping a trailing slash (a directory mount) as the original has it. */
function movePath(p: string, t: ComposeTransform): string | undefined {
    const local = t.nodeLocal?.[p.replace(/\/+$/, "")];
    if (local !== undefined) return p.endsWith("/") ? `${local.replace(/\/+$/, "")}/` : local;
    const prefix = t.dataVolumePrefix.replace(/\/+$/, "");
    if (p !== prefix && !p.startsWith(`${prefix}/`)) return undefined;
    const moved = path.posix.join(t.dataPath, p.slice(prefix.length)).replace(/\/+$/, "");
    return p.endsWith("/") ? `${moved}/` : moved;
}

function removeFromDependsOn(service: YAMLMap, drop: readonly string[]): void {
    const deps = service.get("depends_on", true);
    if (isSeq(deps)) {
        deps.items = deps.items.filter(i => !(isScalar(i) && drop.includes(String(i.value))));
        if (deps.items.length === 0) service.delete("depends_on");
    } else if (isMap(deps)) {
        for (const name of drop) deps.delete(name);
        if (deps.items.length === 0) service.delete("depends_on");
    }
}

function moveVolumes(service: YAMLMap, t: ComposeTransform): number {
    const vols = service.get("volumes", true);
    if (!isSeq(vols)) return 0;
    let moved = 0;
    for (const item of vols.items) {
        if (isScalar(item) && typeof item.value === "string") {
            const [src, ...rest] = item.value.split(":");
            const to = movePath(src, t);
            if (to !== undefined) {
                item.value = [to, ...rest].join(":");
                moved++;
            }
        } else if (isMap(item) && item.get("type") === "bind") {
            const src = item.get("source");
            const to = typeof src === "string" ? movePath(src, t) : undefined;
            if (to !== undefined) {
                item.set("source", to);
                moved++;
            }
        }
    }
    return moved;
}

export function transformCompose(text: string, t: ComposeTransform): string {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`docker-compose.yml does not parse: ${doc.errors[0].message}`);
    const services = doc.get("services", true);
    if (!isMap(services)) throw new Error("docker-compose.yml has no services map");
    for (const name of t.dropServices) services.delete(name);
    let moved = 0;
    for (const pair of services.items) {
        const svc = pair.value;
        if (!isMap(svc)) continue;
        removeFromDependsOn(svc, t.dropServices);
        for (const key of ["links", "volumes_from"]) {
            const list = svc.get(key, true);
            if (isSeq(list)) {
                list.items = list.items.filter(i => !(isScalar(i) && t.dropServices.includes(String(i.value).split(":")[0])));
                if (list.items.length === 0) svc.delete(key);
            }
        }
        moved += moveVolumes(svc, t);
    }
    const proxy = services.get(t.proxyService, true);
    if (!isMap(proxy)) throw new Error(`docker-compose.yml has no "${t.proxyService}" service to publish`);
    const ports = new YAMLSeq();
    for (const p of t.proxyPorts) ports.add(doc.createNode(p));
    proxy.set("ports", ports);
    if (moved === 0) {
        throw new Error(`docker-compose.yml has no volume under ${t.dataVolumePrefix}: not the installer layout this flavor expects`);
    }
    return doc.toString({ lineWidth: 0 });
}
