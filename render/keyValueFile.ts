// harbor.cfg ("key = value") and env files ("KEY=value") are line-oriented key/value files with
// comments worth keeping, so keys are set in place rather than the file being regenerated.

export type KeyValueStyle = "cfg" | "env";

const linePattern: Record<KeyValueStyle, RegExp> = {
    cfg: /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/,
    env: /^\s*([A-Za-z_][A-Za-z0-9_]*)=/,
};

function formatLine(style: KeyValueStyle, key: string, value: string): string {
    return style === "cfg" ? `${key} = ${value}` : `${key}=${value}`;
}

/**
 * Sets each key to its value: the first line defining the key is replaced, later duplicates are
 * dropped, and missing keys are appended in the order given. Values must be single lines.
 */
export function setKeys(text: string, values: Record<string, string>, style: KeyValueStyle): string {
    for (const [k, v] of Object.entries(values)) {
        if (/[\r\n]/.test(v)) throw new Error(`value of ${k} must be a single line`);
    }
    const pending = new Map(Object.entries(values));
    const done = new Set<string>();
    const lines = text.replace(/\r\n/g, "\n").split("\n");
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    const out: string[] = [];
    for (const line of lines) {
        const m = linePattern[style].exec(line);
        const key = m?.[1];
        if (key !== undefined && values[key] !== undefined) {
            if (done.has(key)) continue;
            out.push(formatLine(style, key, values[key]));
            done.add(key);
            pending.delete(key);
            continue;
        }
        out.push(line);
    }
    if (pending.size > 0) {
        out.push(style === "cfg" ? "" : "# set by harbor-ha");
        if (style === "cfg") out.push("# set by harbor-ha");
        for (const [k, v] of pending) out.push(formatLine(style, k, v));
    }
    return out.join("\n") + "\n";
}

/** Reads the keys of a key/value file (last definition wins), for tests and checks. */
export function readKeys(text: string, style: KeyValueStyle): Record<string, string> {
    const result: Record<string, string> = {};
    for (const line of text.split(/\r?\n/)) {
        const m = linePattern[style].exec(line);
        if (m) result[m[1]] = line.slice(m[0].length).trim();
    }
    return result;
}

/**
 * Harbor 1.x's prepare fills templates with Python's string.Template, where "$" starts a
 * placeholder: a literal value written into a template must double it.
 */
export function templateLiteral(value: string): string {
    return value.replace(/\$/g, "$$$$");
}
