// Seed step 1: the CephFS mount, for the kernel client (the seed's) or ceph-fuse (fstab fuse.ceph).
import { CephConfig } from "../config/types";

export interface CephFiles {
    /** The file holding the client secret (kernel: bare key; fuse: keyring). */
    secretPath: string;
    /** fuse only: a ceph.conf naming the monitors (fstab options are comma-separated, monitor lists too). */
    confPath?: string;
}

export function cephFiles(c: CephConfig): CephFiles {
    return c.client === "kernel"
        ? { secretPath: `/etc/ceph/${c.user}.secret` }
        : { secretPath: `/etc/ceph/ceph.client.${c.user}.keyring`, confPath: "/etc/ceph/harbor-ha.conf" };
}

function withPort(mon: string): string {
    return /:\d+$/.test(mon) ? mon : `${mon}:6789`;
}

export function fstabLine(c: CephConfig): string {
    const f = cephFiles(c);
    if (c.client === "kernel") {
        const source = `${c.monitors.map(withPort).join(",")}:${c.path}`;
        return `${source} ${c.mountPoint} ceph name=${c.user},secretfile=${f.secretPath},noatime,_netdev 0 2`;
    }
    const opts = [
        `ceph.id=${c.user}`,
        `ceph.conf=${f.confPath}`,
        `ceph.keyring=${f.secretPath}`,
        `ceph.client_mountpoint=${c.path}`,
        "noatime",
        "_netdev",
    ];
    return `none ${c.mountPoint} fuse.ceph ${opts.join(",")} 0 0`;
}

/** The content of the secret file: the bare key (kernel secretfile) or a keyring (fuse). */
export function cephSecretFile(c: CephConfig, key: string): string {
    return c.client === "kernel" ? `${key}\n` : `[client.${c.user}]\n\tkey = ${key}\n`;
}

export function cephClientConf(c: CephConfig): string {
    return `# written by harbor-ha for the ${c.mountPoint} mount\n[global]\n\tmon_host = ${c.monitors.map(withPort).join(",")}\n`;
}
