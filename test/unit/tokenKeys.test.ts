// The shared token keypair: a real RSA key and a certificate that verifies with it.
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { keyProvider } from "../../components/sharedTokenKeys";
import { generateTokenKeys } from "../../components/tokenKeys";

describe("token keys", () => {
    const m = generateTokenKeys("hub.example.test", 2048, 3650);
    const cert = new X509Certificate(m.certificatePem);

    it("pairs the private key with the certificate", () => {
        assert.ok(cert.checkPrivateKey(createPrivateKey(m.privateKeyPem)));
        assert.equal(createPublicKey(m.privateKeyPem).export({ format: "pem", type: "spki" }),
            cert.publicKey.export({ format: "pem", type: "spki" }));
    });
    it("is self-signed for the domain, valid for ten years", () => {
        assert.ok(cert.verify(cert.publicKey));
        assert.match(cert.subject, /CN=hub\.example\.test/);
        const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
        assert.ok(days > 3640 && days < 3651, `valid for ${days} days`);
        assert.equal(Math.floor(Date.parse(m.notAfter) / 1000), Date.parse(cert.validTo) / 1000);
    });
    it("reports the certificate's real SHA-256 fingerprint", () => assert.equal(m.fingerprintSha256, cert.fingerprint256));
    it("makes a new keypair each time it is asked (so it is asked once: the dynamic resource)", () => {
        assert.notEqual(generateTokenKeys("hub.example.test", 2048, 1).privateKeyPem, m.privateKeyPem);
    });
    it("re-keys only when rotation (or the subject) changes", async () => {
        const olds = { commonName: "hub.example.test", rotation: "0", bits: 4096, validDays: 3650 };
        const same = await keyProvider.diff!("id", olds, { ...olds });
        assert.equal(same.changes, false);
        const rotated = await keyProvider.diff!("id", olds, { ...olds, rotation: "1" });
        assert.deepEqual(rotated.replaces, ["rotation"]);
    });
});
