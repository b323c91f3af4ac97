// The loader: which secret keys the stack file holds in plain text is read from the engine's
// config, not assumed; a plain-text secret stops the program before any resource exists.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, readRawConfig } from "../../config/load";
import { ConfigError } from "../../config/validate";
import { fixtureInstaller, plainConfig, secretValues } from "../mocks";

function stackWith(encrypted: string[]): void {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(plainConfig(fixtureInstaller()))) all[`harbor-ha:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    for (const [k, v] of Object.entries(secretValues)) all[`harbor-ha:${k}`] = v;
    pulumi.runtime.setAllConfig(all, encrypted.map(k => `harbor-ha:${k}`));
}

describe("loading the stack config", () => {
    it("marks each secret key by whether the stack file holds it encrypted", () => {
        stackWith(Object.keys(secretValues).filter(k => k !== "redisPassword"));
        const raw = readRawConfig();
        assert.equal(raw.secrets.redisPassword?.storedAsSecret, false);
        for (const k of Object.keys(secretValues).filter(k => k !== "redisPassword")) {
            assert.equal(raw.secrets[k as keyof typeof raw.secrets]?.storedAsSecret, true, k);
        }
    });

    it("refuses a plain-text secret, naming the key and the fix", () => {
        stackWith(Object.keys(secretValues).filter(k => k !== "cephSecret" && k !== "adminPassword"));
        assert.throws(() => loadConfig(), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.deepEqual(e.problems.filter(p => /plain text/.test(p)).map(p => p.split(":")[1]), ["cephSecret", "adminPassword"]);
            assert.match(e.message, /pulumi config set --secret harbor-ha:cephSecret/);
            return true;
        });
    });

    it("accepts the same stack with every secret encrypted", () => {
        stackWith(Object.keys(secretValues));
        assert.equal(loadConfig().config.nodes.length, 3);
    });
});
