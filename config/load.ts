// Reads the stack config, validates all of it at once, and hands secrets on only as secret Outputs.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { plainKeys, project, RawConfig, SecretInput, validateConfig } from "./validate";
import { ClusterConfig, SecretKey, secretKeys } from "./types";

export type Secrets = { [K in SecretKey]?: pulumi.Output<string> };

// The SDK records which keys the stack file holds encrypted (runtime.isConfigSecret, not in its
// typings). Without it a plain-text secret would pass unnoticed, so its absence is an error.
function isConfigSecret(key: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    if (typeof check !== "function") {
        throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret: harbor-ha cannot tell a plain-text secret from an encrypted one");
    }
    return check(key);
}

function parseValue(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    const t = text.trim();
    if (t.startsWith("{") || t.startsWith("[") || /^\d+$/.test(t) || t === "true" || t === "false") {
        try {
            return JSON.parse(t);
        } catch {
            return text;
        }
    }
    return text;
}

export function readRawConfig(cfg = new pulumi.Config(project)): RawConfig {
    const values: Record<string, unknown> = {};
    for (const k of plainKeys) values[k] = parseValue(cfg.get(k));
    const secrets: Partial<Record<SecretKey, SecretInput>> = {};
    for (const k of secretKeys) {
        // Read in plain only to check its shape; it leaves this function as a secret Output.
        const value = cfg.get(k);
        if (value) secrets[k] = { value, storedAsSecret: isConfigSecret(`${project}:${k}`) };
    }
    const keys = Object.keys(pulumi.runtime.allConfig()).filter(k => k.startsWith(`${project}:`)).map(k => k.slice(project.length + 1));
    return { values, secrets, fileExists: p => fs.existsSync(p), keys };
}

export function loadConfig(): { config: ClusterConfig; secrets: Secrets } {
    const cfg = new pulumi.Config(project);
    const config = validateConfig(readRawConfig(cfg));
    const secrets: Secrets = {};
    // An empty secret means "not given".
    for (const k of secretKeys) secrets[k] = cfg.get(k) ? cfg.requireSecret(k) : undefined;
    return { config, secrets };
}
