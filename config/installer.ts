// The installer is read on the machine running Pulumi: rendering works on its real files, and the
// archive's sha256 keys every step that depends on it.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tar from "tar";
import { Flavor } from "../render/flavors";
import { InstallerSource } from "./types";

export interface InstallerContents {
    /** Local path of the archive that is copied to the nodes. */
    archivePath: string;
    sha256: string;
    /** Name of the image archive inside the installer's top directory. */
    imageArchive: string;
    /** The files the flavor renders from, by path relative to the installer's top directory. */
    files: Record<string, string>;
}

export function sha256File(p: string): string {
    const hash = createHash("sha256");
    const fd = fs.openSync(p, "r");
    try {
        const buf = Buffer.alloc(1 << 20);
        for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
    } finally {
        fs.closeSync(fd);
    }
    return hash.digest("hex");
}

/** A URL installer is downloaded once into a cache named by its sha256 and checked against it. */
export async function resolveInstaller(src: InstallerSource, cacheDir = path.join(os.homedir(), ".cache", "harbor-ha", "installers")): Promise<string> {
    if (src.kind === "file") return src.path;
    const target = path.join(cacheDir, `${src.sha256}.tgz`);
    if (fs.existsSync(target) && sha256File(target) === src.sha256) return target;
    fs.mkdirSync(cacheDir, { recursive: true });
    const res = await fetch(src.url);
    if (!res.ok || !res.body) throw new Error(`harbor-ha:installer.url: download of ${src.url} failed: HTTP ${res.status}`);
    const tmp = `${target}.${process.pid}.part`;
    fs.writeFileSync(tmp, Buffer.from(await res.arrayBuffer()));
    const got = sha256File(tmp);
    if (got !== src.sha256) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`harbor-ha:installer.sha256: ${src.url} has sha256 ${got}, expected ${src.sha256}`);
    }
    fs.renameSync(tmp, target);
    return target;
}

/** Reads the files the flavor renders from out of the installer archive (one pass, nothing extracted). */
export function readInstaller(archivePath: string, flavor: Flavor): InstallerContents {
    const wanted = new Set(flavor.installerFiles);
    const files: Record<string, string> = {};
    let imageArchive: string | undefined;
    const topDirs = new Set<string>();
    tar.t({
        file: archivePath,
        sync: true,
        onReadEntry: entry => {
            const parts = entry.path.replace(/^\.\//, "").split("/");
            topDirs.add(parts[0]);
            const rel = parts.slice(1).join("/");
            if (wanted.has(rel) && entry.type === "File") {
                const chunks: Buffer[] = [];
                entry.on("data", (c: Buffer) => chunks.push(c));
                entry.on("end", () => { files[rel] = Buffer.concat(chunks).toString("utf8"); });
            } else if (parts.length === 2 && flavor.imageArchive.test(rel)) {
                imageArchive = rel;
            }
            entry.resume();
        },
    });
    const problems: string[] = [];
    if (topDirs.size !== 1) problems.push(`expected one top directory, found ${[...topDirs].join(", ") || "none"}`);
    for (const rel of wanted) if (files[rel] === undefined) problems.push(`missing ${rel}`);
    if (!imageArchive) problems.push(`no image archive matching ${flavor.imageArchive} in the top directory`);
    if (problems.length > 0) {
        throw new Error(`harbor-ha:installer: ${archivePath} is not a Harbor ${flavor.version} installer: ${problems.join("; ")}`);
    }
    return { archivePath, sha256: sha256File(archivePath), imageArchive: imageArchive!, files };
}
