// Files travel to a node on the command's stdin, never in a command line: one line per file,
// "<mode> <relative path> <base64 content>", unpacked by the read_bundle shell function.
import { createHash } from "crypto";

export interface BundleFile {
    path: string;
    mode: string;
    content: string;
}

export function encodeBundle(files: BundleFile[]): string {
    return files.map(f => {
        if (!/^[0-7]{4}$/.test(f.mode)) throw new Error(`bad mode ${f.mode} for ${f.path}`);
        if (!/^[A-Za-z0-9._/-]+$/.test(f.path) || f.path.startsWith("/") || f.path.split("/").includes("..")) {
            throw new Error(`bundle path must be relative and plain: ${f.path}`);
        }
        return `${f.mode} ${f.path} ${Buffer.from(f.content, "utf8").toString("base64")}`;
    }).join("\n") + "\n";
}

export function decodeBundle(text: string): BundleFile[] {
    return text.split("\n").filter(l => l !== "").map(l => {
        const [mode, p, b64] = l.split(" ");
        return { mode, path: p, content: Buffer.from(b64, "base64").toString("utf8") };
    });
}

export function sha256(text: string | Buffer): string {
    return createHash("sha256").update(text).digest("hex");
}
