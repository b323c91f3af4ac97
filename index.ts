// harbor-ha: a highly available Harbor on plain Linux VMs (see README.md).
import { harborStack } from "./program";

const outputs = harborStack();
// The engine awaits the outputs later; handled now, a bad stack file's rejection is reported once,
// as the engine's error, without Node's "handled asynchronously" warning.
outputs.catch(() => undefined);
export = outputs;
