// harbor-ha: a highly available Harbor on plain Linux VMs (see README.md).
import { harborStack } from "./program";

export = harborStack();
