// npm run test:unit, process 1 of 3: the program run whole under the mock engine.
import { loadUnitTests, programFiles } from "./load";

loadUnitTests(f => programFiles.test(f));
