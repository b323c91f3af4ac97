// The cluster's TLS material, made with node-forge. Self-contained (forge required inside) so the
// dynamic providers can be serialized with it.
export interface IssuedCertificate {
    certificatePem: string;
    privateKeyPem: string;
    notAfter: string;
    fingerprintSha256: string;
}

export interface ServerCertificateRequest {
    domain: string;
    /** Extra names and addresses clients may use: DNS names or IPv4/IPv6 literals. */
    sans: string[];
    caCertificatePem: string;
    caPrivateKeyPem: string;
    validDays: number;
}

function issue(subjectCn: string, validDays: number, extensions: object[], signer?: { cert: string; key: string }): IssuedCertificate {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const forge = require("node-forge") as typeof import("node-forge");
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = "01" + forge.util.bytesToHex(forge.random.getBytesSync(15));
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(cert.validity.notBefore.getTime() + validDays * 86_400_000);
    cert.setSubject([{ name: "commonName", value: subjectCn }, { name: "organizationName", value: "harbor-ha" }]);
    const issuerCert = signer ? forge.pki.certificateFromPem(signer.cert) : undefined;
    cert.setIssuer(issuerCert ? issuerCert.subject.attributes : cert.subject.attributes);
    cert.setExtensions(extensions);
    const signingKey = signer ? forge.pki.privateKeyFromPem(signer.key) : keys.privateKey;
    cert.sign(signingKey as import("node-forge").pki.rsa.PrivateKey, forge.md.sha256.create());
    const md = forge.md.sha256.create();
    md.update(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes());
    return {
        certificatePem: forge.pki.certificateToPem(cert),
        privateKeyPem: forge.pki.privateKeyToPem(keys.privateKey),
        notAfter: cert.validity.notAfter.toISOString(),
        fingerprintSha256: md.digest().toHex().toUpperCase().match(/../g)!.join(":"),
    };
}

export function generateCa(commonName: string, validDays: number): IssuedCertificate {
    return issue(commonName, validDays, [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
        { name: "subjectKeyIdentifier" },
    ]);
}

export function issueServerCertificate(r: ServerCertificateRequest): IssuedCertificate {
    const isIp = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(":");
    const names = [r.domain, ...r.sans.filter(s => s !== r.domain)];
    return issue(r.domain, r.validDays, [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        { name: "subjectAltName", altNames: names.map(n => isIp(n) ? { type: 7, ip: n } : { type: 2, value: n }) },
    ], { cert: r.caCertificatePem, key: r.caPrivateKeyPem });
}
