import { packageBuild } from '../../tsup.base.js';

// worker-entry: the body of the background worker threads (src/background/worker-loader.ts
// starts dist/worker-entry.js or .cjs, next to the module that starts it).
export default packageBuild({ index: 'src/index.ts', 'testing/index': 'src/testing/index.ts', 'worker-entry': 'src/background/worker-entry.ts' });
