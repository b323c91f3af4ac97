// Where harbor-ha keeps its own files in a node's install directory (its own module: the scripts
// that name these files import it without importing each other).

/** Files the deploy step keeps outside the installer tree until prepare has run; the node's record. */
export const stageDir = ".harbor-ha";
export const staged = {
    tokenKey: "token/private_key.pem", tokenCert: "token/root.crt", secretKey: "secretkey",
    tlsCert: "tls/server.crt", tlsKey: "tls/server.key", tlsCa: "tls/ca.crt",
} as const;
