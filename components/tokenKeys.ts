// The token-signing keypair (seed problem 2): generated with node-forge, self-contained so the
// dynamic provider can be serialized with it.
export interface TokenKeyMaterial {
    privateKeyPem: string;
    certificatePem: string;
    fingerprintSha256: string;
    notAfter: string;
}

export function generateTokenKeys(commonName: string, bits: number, validDays: number): TokenKeyMaterial {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const forge = require("node-forge") as typeof import("node-forge");
    const keys = forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = "01" + forge.util.bytesToHex(forge.random.getBytesSync(15));
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(cert.validity.notBefore.getTime() + validDays * 86_400_000);
    const subject = [{ name: "commonName", value: commonName }, { name: "organizationName", value: "harbor-ha" }];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.setExtensions([
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", digitalSignature: true, keyCertSign: true },
        { name: "subjectKeyIdentifier" },
    ]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
    const md = forge.md.sha256.create();
    md.update(der);
    const fingerprint = md.digest().toHex().toUpperCase().match(/../g)!.join(":");
    return {
        privateKeyPem: forge.pki.privateKeyToPem(keys.privateKey),
        certificatePem: forge.pki.certificateToPem(cert),
        fingerprintSha256: fingerprint,
        notAfter: cert.validity.notAfter.toISOString(),
    };
}
