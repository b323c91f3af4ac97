// Finding the Python an installer's prepare needs, on the node. The preflight reports it and the
// deploy runs prepare with it: Harbor 1.x's prepare starts `#!/usr/bin/python`, which current
// distributions do not have or point at Python 3.
import { describePython, PythonRequirement } from "../flavors/flavor";
import { q } from "./shell";

/** Python code exiting 0 when the running interpreter is in one of the ranges. */
function versionTest(p: PythonRequirement): string {
    const cond = p.accepts.map(r => `(v[0] == ${r.major} and ${r.minMinor} <= v[1] <= ${r.maxMinor})`).join(" or ");
    return `import sys; v = sys.version_info; sys.exit(0 if ${cond} else 1)`;
}

/** `find_python`: prints "<path> <version>" of the first accepted candidate, or fails. */
export function findPythonFn(p: PythonRequirement): string {
    return `# find_python: the first of ${p.candidates.join(", ")} that is ${describePython(p)}
find_python() {
  local c path
  for c in ${p.candidates.map(q).join(" ")}; do
    path=$(command -v "$c" 2>/dev/null) || continue
    "$path" -c ${q(versionTest(p))} 2>/dev/null || continue
    echo "$path $("$path" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    return 0
  done
  return 1
}`;
}

/** One line naming what is missing and the fix; the same in the preflight and the deploy. */
export function missingPythonMessage(p: PythonRequirement, what: string): string {
    return `${what}'s prepare (${p.shebang}) needs ${describePython(p)}: none of ${p.candidates.join(", ")} is. ` +
        "Provide it with scripts/node-python2.sh (README: \"Python 2 on current distributions\")";
}
