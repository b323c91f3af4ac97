// Checks a certificate the user supplies instead of the generated one, with node-forge.
import * as forge from "node-forge";

function covers(pattern: string, name: string): boolean {
    const p = pattern.toLowerCase();
    const n = name.toLowerCase();
    if (p === n) return true;
    // A wildcard covers exactly one left-most label.
    return p.startsWith("*.") && n.split(".").slice(1).join(".") === p.slice(2) && n.split(".")[0] !== "";
}

/** Problems with a supplied certificate/key pair, each a sentence; empty when usable. */
export function certificateProblems(certPem: string, keyPem: string, domain: string, now = new Date()): string[] {
    let cert: forge.pki.Certificate;
    try {
        cert = forge.pki.certificateFromPem(certPem);
    } catch (e) {
        return [`is not a PEM certificate (${(e as Error).message})`];
    }
    const problems: string[] = [];
    try {
        const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
        const pub = cert.publicKey as forge.pki.rsa.PublicKey;
        if (!pub.n || key.n.compareTo(pub.n) !== 0 || key.e.compareTo(pub.e) !== 0) {
            problems.push("does not match harbor-ha:tlsPrivateKey (a different key pair)");
        }
    } catch (e) {
        problems.push(`comes with a private key that is not an RSA PEM key (${(e as Error).message})`);
    }
    const san = cert.getExtension("subjectAltName") as { altNames?: { type: number; value?: string }[] } | null;
    const dnsNames = (san?.altNames ?? []).filter(a => a.type === 2 && a.value).map(a => a.value!);
    const cn = cert.subject.getField("CN")?.value as string | undefined;
    const names = dnsNames.length > 0 ? dnsNames : cn ? [cn] : [];
    if (!names.some(n => covers(n, domain))) {
        problems.push(`does not cover the domain ${domain} (it names ${names.join(", ") || "nothing"})`);
    }
    if (cert.validity.notAfter.getTime() <= now.getTime()) {
        problems.push(`expired on ${cert.validity.notAfter.toISOString()}`);
    } else if (cert.validity.notBefore.getTime() > now.getTime()) {
        problems.push(`is not valid before ${cert.validity.notBefore.toISOString()}`);
    }
    return problems;
}
