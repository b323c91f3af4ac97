// npm run verify's --upgrade-from: the two installers an SRE gives for the upgrade figures, their
// releases read from Harbor's file names; a name without one is refused, not guessed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { releasesFrom } from "../e2e/upgradeV2";

describe("--upgrade-from", () => {
    it("takes each release from its installer's file name", () => {
        assert.deepEqual(releasesFrom("/srv/harbor-offline-installer-v2.14.4.tgz", "dl/harbor-offline-installer-v2.15.0.tgz"), {
            old: "2.14.4", newSchema: "2.15.0",
            installers: { old: "/srv/harbor-offline-installer-v2.14.4.tgz", newSchema: "dl/harbor-offline-installer-v2.15.0.tgz" },
        });
    });

    it("refuses a file name with no 2.x release, and a missing second installer", () => {
        assert.throws(() => releasesFrom("/srv/v2.14.4/harbor.tgz", "x-v2.15.0.tgz"), /no Harbor 2\.x release in the file name \/srv\/v2\.14\.4\/harbor\.tgz/);
        assert.throws(() => releasesFrom("harbor-offline-installer-v2.14.4.tgz", ""), /no Harbor 2\.x release in the file name/);
    });
});
