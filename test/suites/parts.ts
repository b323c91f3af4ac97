// npm run test:unit, process 2 of 3: validation, rendering, scripts run in sandboxes, policy, CI.
import { loadUnitTests, programFiles } from "./load";

loadUnitTests(f => !programFiles.test(f));
