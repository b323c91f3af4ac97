// Harbor 2.x upgrades through the program, the way an SRE runs them: a cluster of an older release,
// then `pulumi up` with a release of a newer database schema (every node stops, one migrates, then
// the others start), then one with the same schema (node by node, drained first, under load). The
// releases are lab installers built for those versions (lab/installer-v2/build.sh --version), the
// schema numbers Harbor's own (lab/installer-v2/README.md rows 22-24).
import { spawnSync } from "node:child_process";
import { clientExec, inVm, labDocker, log, pulumi, pullThrough, pushThrough, readStack, repo, Stack, stackArgs, stackConfig, startClient } from "./lab";
import { sleepMs } from "./load";
import { certificateState, Outcome, renewCertificateArgs, renewedEverywhere, stackRun, upUnderLoad } from "./verify";

/** One answer of a node's systeminfo: the release it runs, or "-" when it did not answer. */
export interface VersionSeen {
    at: number;
    node: string;
    version: string;
}

/** The lab installer of a release (built once, then cached); the path build.sh prints last. */
function labInstaller(version: string): string {
    const r = spawnSync("bash", ["lab/installer-v2/build.sh", "--version", `v${version}`], { cwd: repo, encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`lab/installer-v2/build.sh --version v${version}: ${r.stderr.slice(-2000)}`);
    return r.stdout.trim().split("\n").pop()!;
}

/** The releases an upgrade check goes through, and where their installers are. */
export interface UpgradeReleases {
    old: string;
    newSchema: string;
    /** Installers of those releases (e.g. Harbor's real ones); by default lab installers built for them. */
    installers?: { old: string; newSchema: string };
}

/**
 * `--upgrade-from <older.tgz> <newer-schema.tgz>`: two installers of your own, their releases read
 * from the file names (harbor-offline-installer-v2.14.4.tgz).
 */
export function releasesFrom(oldTgz: string, newTgz: string): UpgradeReleases {
    const version = (p: string) => {
        const m = /v(2\.\d+\.\d+)/.exec(p.split("/").pop() ?? "");
        if (!m) throw new Error(`--upgrade-from: no Harbor 2.x release in the file name ${p} (e.g. harbor-offline-installer-v2.14.4.tgz)`);
        return m[1];
    };
    return { old: version(oldTgz), newSchema: version(newTgz), installers: { old: oldTgz, newSchema: newTgz } };
}

function setRelease(s: Stack, version: string, installerPath: string): void {
    pulumi(["config", "set", "harbor-ha:harborVersion", version, ...stackArgs(s.name)]);
    pulumi(["config", "set", "--path", "harbor-ha:installer.path", installerPath, ...stackArgs(s.name)]);
}

function psql(database: string, sql: string): string {
    return labDocker(["exec", "postgres", "runuser", "-u", "postgres", "--", "psql", "-d", database, "-tAc", sql]).trim();
}

/** golang-migrate's row as psql prints it: "<version>|<dirty>" ("180|f"). */
function schemaRow(database: string): string {
    return psql(database, "SELECT version, dirty FROM schema_migrations");
}

const probeDir = "/tmp/harbor-ha-versions";

/**
 * From the lab's client, each node's GET /api/v2.0/systeminfo as the admin (Harbor tells its
 * version only to a logged-in caller), one node after another, about three rounds a second.
 */
export function startVersionProbe(s: Stack): { stop(): VersionSeen[] } {
    clientExec(`rm -rf ${probeDir} && mkdir -m 700 ${probeDir} && read -r pw && printf 'user = "admin:%s"\\n' "$pw" > ${probeDir}/curlrc`, `${s.adminPassword}\n`);
    const probes = s.nodes.map(n => `probe ${n.name} ${n.address}`).join("\n  ");
    clientExec(`cat > ${probeDir}/probe.sh`, `set -u
echo $$ > ${probeDir}/pid
probe() {
  v=$(curl -sS -m 2 -K ${probeDir}/curlrc --cacert /root/ca.crt --resolve ${s.domain}:${s.port}:$2 https://${s.host}/api/v2.0/systeminfo 2>/dev/null |
      grep -o '"harbor_version": *"[^"]*"' | sed 's/.*"\\([^"]*\\)"$/\\1/')
  printf '%s %s %s\\n' "$(date +%s.%N)" "$1" "\${v:--}" >> ${probeDir}/out
}
while [ ! -e ${probeDir}/stop ]; do
  ${probes}
  sleep 0.2
done`);
    labDocker(["exec", "-d", "lab-client", "bash", `${probeDir}/probe.sh`]);
    clientExec(`for i in $(seq 100); do [ -s ${probeDir}/pid ] && exit 0; sleep 0.1; done; echo 'the version probe did not start' >&2; exit 1`);
    return {
        stop(): VersionSeen[] {
            clientExec(`touch ${probeDir}/stop; while kill -0 "$(cat ${probeDir}/pid)" 2>/dev/null; do sleep 0.2; done`);
            return clientExec(`cat ${probeDir}/out; rm -rf ${probeDir}`).split("\n").filter(l => l.trim() !== "").map(l => {
                const [at, node, version] = l.split(" ");
                return { at: Number(at), node, version };
            });
        },
    };
}

/** When the last node of `from` answered and the first of `to`, and whether two releases ever served at once. */
export function versionTimeline(seen: VersionSeen[], from: string, to: string): { lastFrom?: number; firstTo?: number; overlap: boolean } {
    const is = (v: string, release: string) => v.startsWith(`v${release}-`);
    const lastFrom = seen.filter(x => is(x.version, from)).reduce<number | undefined>((m, x) => Math.max(m ?? x.at, x.at), undefined);
    const firstTo = seen.filter(x => is(x.version, to)).reduce<number | undefined>((m, x) => Math.min(m ?? x.at, x.at), undefined);
    // Both releases answering within one round of the probe (each node's latest answer at the time).
    const latest = new Map<string, string>();
    let overlap = false;
    for (const x of [...seen].sort((a, b) => a.at - b.at)) {
        latest.set(x.node, x.version);
        const now = [...latest.values()];
        if (now.some(v => is(v, from)) && now.some(v => is(v, to))) overlap = true;
    }
    return { lastFrom, firstTo, overlap };
}

/** The releases each node answers now. */
function answering(seen: VersionSeen[], nodes: string[]): string {
    return nodes.map(n => `${n} ${[...seen].reverse().find(x => x.node === n)?.version ?? "-"}`).join(", ");
}

/** Lines of a node's core log that say it migrated the schema to `schema`. */
function migratedOn(s: Stack, schema: number): string[] {
    return s.nodes.filter(n => inVm(n.vm, `docker logs harbor-core 2>&1 | grep -c 'migrated the database schema to version ${schema}$' || true`).trim() !== "0")
        .map(n => n.name);
}

const upgradeMessage = (s: Stack) => pulumi(["stack", "output", "--stack", s.name, "upgrade"]).trim();

/**
 * The upgrade figures. The stack is destroyed first (data kept) and its database put aside as
 * `<database>_before_upgrade_check`, since a database at the newest schema cannot go back to an
 * older release; at the end the stack runs its own release and installer again. Returns the
 * figures and the stack as it is afterwards (new passwords and keys: it was created again).
 */
export function upgradeAcrossReleases(start: Stack, tag: string, releases: UpgradeReleases = { old: "2.14.4", newSchema: "2.15.0" }): { outcomes: Outcome[]; stack: Stack } {
    const cfg = stackConfig(start.name);
    const ownRelease = cfg["harbor-ha:harborVersion"].value!;
    const ownInstaller = (JSON.parse(cfg["harbor-ha:installer"].value!) as { path: string }).path;
    const database = (JSON.parse(cfg["harbor-ha:postgres"].value!) as { database?: string }).database ?? "registry";
    const aside = `${database}_before_upgrade_check`;
    const outcomes: Outcome[] = [];
    const fail = (name: string, figure: string) => ({ outcomes: [...outcomes, { name, figure, ok: false }], stack: start });

    const oldInstaller = releases.installers?.old ?? labInstaller(releases.old);
    const newInstaller = releases.installers?.newSchema ?? labInstaller(releases.newSchema);
    const d = stackRun(start, "destroy");
    if (d.status !== 0) return fail("upgrade check: destroy before it", d.out.slice(-1500));
    psql("postgres", `DROP DATABASE IF EXISTS ${aside}`);
    // Harbor is stopped on every node now, but PostgreSQL may still hold sessions whose client went
    // away without a word (a VM killed, a node cut off by the database figure): it keeps them until
    // TCP keepalive gives up, and a database with sessions cannot be renamed.
    const orphans = psql("postgres", `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`);
    if (orphans !== "0") log(`upgrade check: ${orphans} session(s) left on ${database} after the destroy (clients gone), ended`);
    psql("postgres", `ALTER DATABASE ${database} RENAME TO ${aside}`);

    // A cluster of the old release, with an image pushed to it.
    setRelease(start, releases.old, oldInstaller);
    const first = stackRun(start, "up");
    if (first.status !== 0) return fail(`upgrade check: a new ${releases.old} cluster`, first.out.slice(-1500));
    let s = readStack(start.name);
    startClient(s);
    const schemaBefore = schemaRow(database);
    const pushed = pushThrough(s, s.nodes[0].address, `${tag}-before-upgrade`);

    // A release with a newer schema.
    setRelease(s, releases.newSchema, newInstaller);
    const probe = startVersionProbe(s);
    const t0 = Date.now();
    const major = stackRun(s, "up");
    sleepMs(3000);
    const seen = probe.stop();
    const seconds = ((Date.now() - t0) / 1000).toFixed(0);
    const timeline = versionTimeline(seen, releases.old, releases.newSchema);
    const schemaAfter = schemaRow(database);
    const migrated = migratedOn(s, Number(schemaAfter.split("|")[0]));
    let pulled = "";
    try {
        pulled = pullThrough(s, `${s.nodes[s.nodes.length - 1].address}:${s.port}`, `library/harbor-ha-probe:${tag}-before-upgrade`);
    } catch (e) {
        pulled = `failed: ${(e as Error).message.slice(0, 300)}`;
    }
    const gap = timeline.lastFrom !== undefined && timeline.firstTo !== undefined ? (timeline.firstTo - timeline.lastFrom).toFixed(1) : "?";
    const stopAllMessage = upgradeMessage(s);
    outcomes.push(
        {
            name: `upgrade ${releases.old} -> ${releases.newSchema} (new schema): pulumi up`,
            figure: major.status === 0 ? `done in ${seconds}s; plan: ${stopAllMessage}` : `failed: ${major.out.slice(-1500)}`,
            ok: major.status === 0 && /every node stops/.test(stopAllMessage),
        },
        {
            name: `upgrade ${releases.old} -> ${releases.newSchema}: every node stopped before the first started`,
            figure: `last ${releases.old} answer ${gap}s before the first ${releases.newSchema} one` +
                `${timeline.overlap ? "; BOTH releases answered at once" : ""}; at the end: ${answering(seen, s.nodes.map(n => n.name))}`,
            ok: !timeline.overlap && Number(gap) > 0 &&
                s.nodes.every(n => [...seen].reverse().find(x => x.node === n.name)?.version.startsWith(`v${releases.newSchema}-`)),
        },
        {
            name: `upgrade ${releases.old} -> ${releases.newSchema}: the schema migrated once`,
            figure: `schema_migrations ${schemaBefore} -> ${schemaAfter}; migrated by ${migrated.join(", ") || "no node"}`,
            ok: schemaAfter.endsWith("|f") && schemaAfter !== schemaBefore && migrated.length === 1,
        },
        {
            name: `image pushed on ${releases.old} pulled after the upgrade through ${s.nodes[s.nodes.length - 1].name}`,
            figure: pulled === pushed.id ? `same image ${pulled.slice(0, 19)}` : `${pulled} (pushed ${pushed.id.slice(0, 19)})`,
            ok: pulled === pushed.id,
        },
    );

    // The stack's own release, same schema: node by node, under load. The cluster certificate is
    // re-issued in the same up, so 2.x's deploy is seen putting a new one in prepare's hands on every
    // node (that a renewal alone changes every node's deploy is test/unit/rolling.test.ts's).
    setRelease(s, ownRelease, ownInstaller);
    const certBefore = certificateState(s);
    const rolling = startVersionProbe(s);
    const minor = upUnderLoad(s, `${tag}-before-upgrade`, `upgrade ${releases.newSchema} -> ${ownRelease} (same schema) with the certificate renewed, under load`, renewCertificateArgs(s));
    const rolled = versionTimeline(rolling.stop(), releases.newSchema, ownRelease);
    const sameMessage = upgradeMessage(s);
    outcomes.push(...minor, ...renewedEverywhere(s, certBefore, certificateState(s)), {
        name: `upgrade ${releases.newSchema} -> ${ownRelease}: node by node`,
        figure: `plan: ${sameMessage}; both releases served side by side: ${rolled.overlap ? "yes" : "no"}`,
        ok: /node by node/.test(sameMessage) && rolled.overlap,
    });
    s = readStack(start.name);
    return { outcomes, stack: s };
}
