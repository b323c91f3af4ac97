import * as pulumi from "@pulumi/pulumi";

interface HtpasswdInputs {
    password: string;
    /** bcrypt cost; Harbor's prepare uses htpasswd -bcB, cost 5. */
    cost: number;
}

/**
 * The bcrypt hash of a shared password for the registry's htpasswd file, made once and kept in state:
 * bcrypt salts every hash, so computing it on each run would change every node's deploy each time.
 * A new hash is made only when the password changes (compared with bcrypt, never stored in clear).
 */
export const htpasswdProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: HtpasswdInputs) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const bcrypt = require("bcryptjs") as typeof import("bcryptjs");
        const hash = bcrypt.hashSync(inputs.password, inputs.cost);
        return { id: hash.slice(-12), outs: { cost: inputs.cost, hash } };
    },
    async diff(_id: string, olds: { cost: number; hash: string }, news: HtpasswdInputs) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const bcrypt = require("bcryptjs") as typeof import("bcryptjs");
        const replaces = [
            ...(bcrypt.compareSync(news.password, olds.hash) ? [] : ["password"]),
            ...(olds.cost !== news.cost ? ["cost"] : []),
        ];
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
};

/** `hash` is the bcrypt hash of `password` (secret). */
export class RegistryHtpasswd extends pulumi.dynamic.Resource {
    declare readonly hash: pulumi.Output<string>;

    constructor(name: string, args: { password: pulumi.Input<string>; cost?: pulumi.Input<number> }, opts?: pulumi.CustomResourceOptions) {
        super(htpasswdProvider, name, { password: pulumi.secret(args.password), cost: args.cost ?? 5, hash: undefined },
            { ...opts, additionalSecretOutputs: ["hash"] }, "harbor-ha", "RegistryHtpasswd");
    }
}
